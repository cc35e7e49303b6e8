/**
 * The legacy Cornerstone stack, loaded on first use from /static/ (installed from npm by
 * scripts/web-assets): cornerstone-core draws on a 2D canvas, dicom-parser reads Part 10 files,
 * cornerstone-wado-image-loader fetches them over WADO-URI and decodes them in this thread (its
 * build without web workers, codecs included). These are UMD scripts: they load with <script>
 * tags, in order, and leave their globals on window.
 */

const SCRIPTS = [
  "/static/cornerstone-core/cornerstone.min.js",
  "/static/dicom-parser/dicomParser.min.js",
  "/static/cornerstone-wado-image-loader/cornerstoneWADOImageLoaderNoWebWorkers.bundle.min.js",
];

let loading = null;

function script(src) {
  return new Promise((resolve, reject) => {
    const element = document.createElement("script");
    element.src = src;
    element.addEventListener("load", resolve, { once: true });
    element.addEventListener("error", () => reject(new Error(`${src} did not load`)), { once: true });
    document.head.append(element);
  });
}

/** ``cornerstone``, ready to load ``wadouri:`` images. */
export function loadCornerstone() {
  loading ??= (async () => {
    for (const src of SCRIPTS) await script(src);
    const { cornerstone, cornerstoneWADOImageLoader: loader, dicomParser } = window;
    loader.external.cornerstone = cornerstone;
    loader.external.dicomParser = dicomParser;
    return cornerstone;
  })();
  loading.catch(() => {
    loading = null; // try again next time
  });
  return loading;
}

/** A WADO-URI address of one instance (one frame of it: 0-based), as the loader wants it. */
export function wadoUri(study, series, sop, frame) {
  const params = new URLSearchParams({
    requestType: "WADO",
    studyUID: study,
    seriesUID: series,
    objectUID: sop,
    contentType: "application/dicom",
  });
  return `wadouri:/wado?${params}${frame === undefined ? "" : `&frame=${frame}`}`;
}
