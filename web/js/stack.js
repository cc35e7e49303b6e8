/**
 * A stack of images in one Cornerstone element: shows one at a time, keeps the window, zoom
 * and pan while scrolling, and loads the rest in the background, nearest first, a few at a time.
 */

const AHEAD = 3; // images loaded at once in the background

export class Stack {
  constructor(cornerstone, element, { onProgress, onError }) {
    this.cs = cornerstone;
    this.element = element;
    this.onProgress = onProgress;
    this.onError = onError;
    this.ids = [];
    this.index = 0;
    this.loaded = new Set();
    this.generation = 0;
    cornerstone.enable(element);
  }

  get size() {
    return this.ids.length;
  }

  /** Show ``ids`` from the first; fit the first image to the element. */
  async open(ids) {
    this.generation += 1;
    this.ids = ids;
    this.loaded = new Set();
    this.index = 0;
    this.fresh = true;
    this.onProgress(0, ids.length);
    if (!ids.length) return;
    await this.show(0);
    this.prefetch(this.generation);
  }

  async show(index) {
    if (!this.ids.length) return;
    const target = Math.max(0, Math.min(this.ids.length - 1, index));
    this.index = target;
    const generation = this.generation;
    let image;
    try {
      image = await this.load(target);
    } catch (error) {
      if (generation === this.generation) this.onError(error);
      return;
    }
    if (generation !== this.generation || this.index !== target) return; // moved on meanwhile
    const viewport = this.fresh ? this.cs.getDefaultViewportForImage(this.element, image) : undefined;
    this.fresh = false;
    this.cs.displayImage(this.element, image, viewport);
  }

  scroll(step) {
    return this.show(this.index + step);
  }

  async load(index) {
    const image = await this.cs.loadAndCacheImage(this.ids[index]);
    if (!this.loaded.has(index)) {
      this.loaded.add(index);
      this.onProgress(this.loaded.size, this.ids.length);
    }
    return image;
  }

  /** Load every image, those nearest the one shown first. */
  async prefetch(generation) {
    const order = this.ids.map((_, i) => i).filter((i) => !this.loaded.has(i))
      .sort((a, b) => Math.abs(a - this.index) - Math.abs(b - this.index));
    const worker = async () => {
      while (order.length && generation === this.generation) {
        try {
          await this.load(order.shift());
        } catch (error) {
          if (generation === this.generation) this.onError(error);
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: AHEAD }, worker));
  }

  reset() {
    if (this.cs.getImage(this.element)) this.cs.reset(this.element);
  }

  resize() {
    this.cs.resize(this.element, false);
  }

  close() {
    this.generation += 1;
    this.cs.disable(this.element);
    this.cs.imageCache.purgeCache();
  }
}
