export {
  resolveModel,
  defaultToken,
  ONNX_FILE,
  ONNX_DATA_FILE,
  DEFAULT_ENDPOINT,
  type ResolveOptions,
  type ResolvedModel,
  type WantedFiles,
} from "./resolve.js";
export {
  hubCacheDir,
  hfHomeDir,
  repoFolderName,
  repoCacheDir,
  snapshotDir,
  snapshotPath,
  blobPath,
  refPath,
  readRef,
  writeRef,
  cachedCommit,
  cachedFile,
  isCommitHash,
  type RepoType,
} from "./cache.js";
export { LEGACY_MODELS, canonicalFromTable, onnxMirrorId } from "./names.js";
export { fetchModelInfo, type ModelInfo, type HubContext } from "./http.js";
export { downloadToCache, type DownloadOptions } from "./download.js";
