export {
  resolveModel,
  hubSettings,
  envFlag,
  defaultToken,
  ONNX_FILE,
  ONNX_DATA_FILE,
  DEFAULT_ENDPOINT,
  type ResolveOptions,
  type ResolvedModel,
  type WantedFiles,
  type HubSettings,
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
export { fetchModelInfo, fetchRepoInfo, HubHttpError, HubUnreachableError, repoLabel, type ModelInfo, type RepoInfo, type HubContext } from "./http.js";
export { downloadToCache, type DownloadOptions } from "./download.js";
export { withRetry, retryingFetch, retryAfterMs, type RetryPolicy } from "./retry.js";
export { prefetchModel, snapshotDownload, type FileSet, type PrefetchResult, type SnapshotResult } from "./prefetch.js";
export { scanCache, findCachedRepos, deleteCachedRepo, formatCacheSize, type CacheScan, type CachedRepo, type CachedRevision } from "./scan.js";
