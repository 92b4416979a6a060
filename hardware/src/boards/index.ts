// Board profiles: Raspberry Pi header pins, GPIO line names and UARTs (hardware/boards/*.yaml), and
// discovery of the SoC GPIO chip's sysfs base from gpiochip*/label, never hard-coded.
export {
  checkBoardInvariants,
  DEFAULT_BOARDS_DIR,
  findUart,
  gpioForHeaderPin,
  headerPinForGpio,
  loadBoardFile,
  loadBoards,
  validateBoard,
} from './boards.ts';
export {
  DEFAULT_GPIO_SYSFS_ROOT,
  discoverGpioBase,
  discoverGpioChip,
  KNOWN_SOC_GPIO_LABELS,
  listGpioChips,
} from './gpio-base.ts';
export { BOARD_PROFILE_JSON_SCHEMA_PATH, renderBoardProfileJsonSchema } from './json-schema.ts';
export { boardProfileSchema } from './schema.ts';
export type { BoardProfile, BoardUart, GpioChipInfo, HeaderPin } from './types.ts';
