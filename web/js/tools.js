/**
 * What the hands do to the viewer: the wheel scrolls the stack; dragging with the primary
 * button (or one finger) uses the chosen tool — window/level, pan, zoom or scroll — while the
 * middle button pans and the right one zooms; two fingers pinch to zoom; the arrow, Page and
 * Home/End keys move through the stack.
 */

const WHEEL_STEP = 60; // pixels of wheel travel per image (trackpads send many small steps)
const DRAG_STEP = 8; // pixels of drag per image with the scroll tool
const CANCELLED = new Set(["wheel", "keydown", "contextmenu"]); // what the page would do too
const KEYS = { ArrowUp: -1, ArrowLeft: -1, ArrowDown: 1, ArrowRight: 1, PageUp: -10, PageDown: 10 };

function windowLevel(viewport, image, dx, dy) {
  const range = (image.maxPixelValue - image.minPixelValue) * (image.slope || 1);
  const multiplier = Math.max(range / 1024, 0.1);
  viewport.voi.windowWidth = Math.max(1, viewport.voi.windowWidth + dx * multiplier);
  viewport.voi.windowCenter += dy * multiplier;
}

function zoomBy(viewport, factor) {
  viewport.scale = Math.max(0.05, Math.min(40, viewport.scale * factor));
}

/** Apply ``tool`` for a drag of (dx, dy) pixels. */
function drag(cs, element, tool, dx, dy) {
  const viewport = cs.getViewport(element);
  const image = cs.getImage(element);
  if (!viewport || !image) return;
  if (tool === "wl") windowLevel(viewport, image, dx, dy);
  else if (tool === "pan") {
    viewport.translation.x += dx / viewport.scale;
    viewport.translation.y += dy / viewport.scale;
  } else if (tool === "zoom") zoomBy(viewport, Math.exp(-dy / 150));
  cs.setViewport(element, viewport);
}

function wheelHandler(stack) {
  let travel = 0;
  return (event) => {
    event.preventDefault();
    const delta = event.deltaMode === 0 ? event.deltaY : event.deltaY * WHEEL_STEP;
    travel = Math.abs(delta) >= WHEEL_STEP ? delta : travel + delta; // a mouse's notch: one image
    if (Math.abs(travel) >= WHEEL_STEP) {
      stack.scroll(Math.sign(travel));
      travel = 0;
    }
  };
}

function keyHandler(stack) {
  return (event) => {
    if (event.key in KEYS) stack.scroll(KEYS[event.key]);
    else if (event.key === "Home") stack.show(0);
    else if (event.key === "End") stack.show(stack.size - 1);
    else return;
    event.preventDefault();
  };
}

/** Drags and pinches: the pointers down on the element, each with its tool. */
function pointerHandlers(cs, element, stack, tool) {
  const pointers = new Map(); // id → last position and tool
  let travel = 0; // of a scroll drag, not yet turned into images
  const spread = () => {
    const [a, b] = [...pointers.values()];
    return Math.hypot(a.x - b.x, a.y - b.y);
  };
  const pinch = (before) => {
    const viewport = cs.getViewport(element);
    if (!viewport || before <= 0) return;
    zoomBy(viewport, spread() / before);
    cs.setViewport(element, viewport);
  };
  const scroll = (dy) => {
    travel += dy;
    const steps = Math.trunc(travel / DRAG_STEP);
    if (!steps) return;
    travel -= steps * DRAG_STEP;
    stack.scroll(steps);
  };
  const up = (event) => pointers.delete(event.pointerId);
  return {
    pointerdown(event) {
      element.focus();
      element.setPointerCapture(event.pointerId);
      const mode = event.button === 1 ? "pan" : event.button === 2 ? "zoom" : tool();
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY, mode });
    },
    pointermove(event) {
      const last = pointers.get(event.pointerId);
      if (!last) return;
      const before = pointers.size === 2 ? spread() : 0;
      pointers.set(event.pointerId, { ...last, x: event.clientX, y: event.clientY });
      if (pointers.size === 2) pinch(before);
      else if (last.mode === "scroll") scroll(event.clientY - last.y);
      else drag(cs, element, last.mode, event.clientX - last.x, event.clientY - last.y);
    },
    pointerup: up,
    pointercancel: up,
  };
}

/** Wire the element to ``stack``; ``tool()`` names the primary drag's tool. Returns an undo. */
export function attachTools(cs, element, stack, tool) {
  const handlers = {
    wheel: wheelHandler(stack),
    keydown: keyHandler(stack),
    contextmenu: (event) => event.preventDefault(),
    ...pointerHandlers(cs, element, stack, tool),
  };
  for (const [name, handler] of Object.entries(handlers)) {
    element.addEventListener(name, handler, { passive: !CANCELLED.has(name) });
  }
  return () => {
    for (const [name, handler] of Object.entries(handlers)) element.removeEventListener(name, handler);
  };
}
