export type { DatasetSplits, Example, HubDatasetOptions, LoadDatasetOptions, LoadedDataset, SplitName } from "./types.js";
export { loadDataset } from "./dataset.js";
export { builtinDatasetNames, datasetsDir, findBuiltin, loadRegistry } from "./registry.js";
export type { HubInfo, Registry, RegistryEntry } from "./registry.js";
export { carveValidation } from "./split.js";
export { closestMatch, levenshtein } from "./suggest.js";
export { fetchHubDataset, parseHubSpec, CONVERT_REF, type HubDatasetFiles, type HubDatasetRef } from "./hub-dataset.js";
export { pickParquetFiles, type ParquetLayout, type SplitFiles } from "./hub-layout.js";
export { parseParquet, classLabelsOf } from "./parquet.js";
