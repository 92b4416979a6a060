// @brana/protocol: the wire protocol between a gateway and the fleet server: schemas and types of
// every message and record, and the signing both sides need (canonical JSON, documents, proofs).
export { canonicalJson } from './canonical-json.ts';
export {
  base64urlSchema,
  CONFIG_DOCUMENT_KIND,
  type ConfigRef,
  configRefSchema,
  hashConfig,
  publicKeySchema,
  type SignedConfigDocument,
  sha256HexSchema,
  signatureSchema,
  signDocument,
  signedConfigDocumentSchema,
  type VerifyDocumentResult,
  verifyDocument,
} from './documents.ts';
export { CanonicalJsonError, KeyFormatError, ProtocolError } from './errors.ts';
export { areValidReadings, isIntAtLeast, isValidChannel, isValidReading } from './fast-readings.ts';
export {
  decodeBase64url,
  type Ed25519KeyPair,
  generateEd25519KeyPair,
  privateKeyFromPem,
  privateKeyToPem,
  publicKeyFromBase64url,
  publicKeyOf,
  publicKeyToBase64url,
  sha256Hex,
  signCanonical,
  verifyCanonical,
} from './keys.ts';
export * from './messages.ts';
export {
  ChannelEntries,
  encodeReadingColumns,
  type ReadingsForm,
  readingOf,
  readingsFromColumns,
  readingsPart,
} from './reading-columns.ts';
export {
  formatPath,
  GATEWAY_HEADERS,
  newNonce,
  type ParseResult,
  parseWire,
  parseWireValue,
  REQUEST_MAX_SKEW_S,
  serverProof,
  sessionProof,
  signGatewayRequest,
  signServerProof,
  signSessionProof,
  verifyGatewayRequest,
  verifyServerProof,
  verifySessionProof,
  type WireIssue,
} from './session.ts';
