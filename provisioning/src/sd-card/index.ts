// SD-card boot files for a Raspberry Pi OS gateway: cloud-init user-data (agent config with the
// claim token, SSH key, first-boot install of Brána and its systemd units), network-config, meta-data.
export {
  agentConfig,
  agentConfigYaml,
  type BootFile,
  type BootInput,
  bootFiles,
  metaData,
  networkConfig,
  userData,
} from './boot-files.ts';
export {
  AGENT_CONFIG_PATH,
  FIRSTBOOT_PATH,
  FIRSTBOOT_SCRIPT,
  GATEWAY_UNITS,
  POLKIT_RULE_PATH,
} from './firstboot.ts';
export {
  BOARD_PROFILE_IDS,
  type BoardName,
  checkUserName,
  checkWifi,
  type InstallSource,
  parseInstallSource,
  parseSshPublicKeys,
  resolveBoard,
  type Wifi,
} from './inputs.ts';
export { planSdCard, type SdCardOptions, type SdCardResult, writeSdCard } from './sd-card.ts';
