// Ed25519 public keys as every part of Brána writes them: the raw 32 key bytes in base64url without
// padding (the JWK "x" member, RFC 8037). One encoder and decoder for vehicle keys, gateway keys
// and the fleet server's key alike.
export { decodeBase64url, KeyFormatError, publicKeyFromBase64url, publicKeyToBase64url } from './ed25519.ts';
