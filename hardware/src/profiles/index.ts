// Device profiles: the zod schema of hardware/profiles/**.yaml, its loader with located errors,
// invariant checks, builders for profiles in code, and the generated JSON Schema.
export {
  current,
  energy,
  frequency,
  humidity,
  modbusProfile,
  numeric,
  power,
  status,
  temperature,
  voltage,
} from './builders.ts';
export { checkProfileInvariants, flowSimRange, simDependencies, simValueRange } from './invariants.ts';
export {
  DEVICE_PROFILE_JSON_SCHEMA_PATH,
  renderDeviceProfileJsonSchema,
  renderJsonSchema,
} from './json-schema.ts';
export {
  type CatalogueCheck,
  checkCatalogue,
  DEFAULT_PROFILES_DIR,
  formatPath,
  type LocatedErrorClass,
  listProfileFiles,
  loadCatalogue,
  loadProfileFile,
  loadYamlFileWith,
  parseProfile,
  parseYamlWith,
  validateProfile,
  zodIssuesToProfileIssues,
} from './loader.ts';
export {
  DEVICE_KINDS,
  deviceProfileSchema,
  FUNCTION_CODES,
  modbusPointSchema,
  modbusProfileSchema,
  opticalDetectorProfileSchema,
  PARITIES,
  POINT_KINDS,
  POLL_CLASSES,
  pointSim,
  SIM_MODELS,
  s0ProfileSchema,
  serialRadioProfileSchema,
} from './schema.ts';
export type * from './types.ts';
export { UNIT_SUFFIX, UNITS, type Unit, unitFromKey } from './units.ts';
