// Gateway labels: an SVG with a QR code of the gateway's console page and its id, site and host name.
export {
  CONSOLE_BASE,
  checkGatewayId,
  consoleUrl,
  type Label,
  type LabelInput,
  renderLabel,
} from './label.ts';
