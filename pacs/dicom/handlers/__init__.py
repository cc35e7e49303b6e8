"""pynetdicom event handlers. They run on association threads and reach trio only via the portal."""
