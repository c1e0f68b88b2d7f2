export type { DatasetSplits, Example, LoadDatasetOptions, LoadedDataset, SplitName } from "./types.js";
export { loadDataset } from "./dataset.js";
export { builtinDatasetNames, datasetsDir, findBuiltin, loadRegistry } from "./registry.js";
export type { HubInfo, Registry, RegistryEntry } from "./registry.js";
export { carveValidation } from "./split.js";
export { closestMatch, levenshtein } from "./suggest.js";
