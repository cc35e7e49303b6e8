"""The HTTP edge: quart-trio app served by hypercorn inside the same trio run."""
