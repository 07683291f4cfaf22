// The fixed ClearKey test key of tests/.content/encrypted (made by make-encrypted.sh, which
// holds the same two hex constants and refuses to run when they differ from these).
// Test material only: it protects nothing.
//
//   import {kid, key, KEYS} from './encrypted-keys.mjs';
//   kid.hex / kid.base64url / kid.uuid ; key.hex / key.base64url

const KID_HEX = '6f66666c696e652d6d616e6167657231'; // "offline-manager1" in ASCII
const KEY_HEX = '3a8c5e1f0b7d49a2c6e4f1085d9b2c70';

const base64url = (hex) => Buffer.from(hex, 'hex').toString('base64url');
const uuid = (hex) => hex.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

export const kid = Object.freeze({hex: KID_HEX, base64url: base64url(KID_HEX), uuid: uuid(KID_HEX)});
export const key = Object.freeze({hex: KEY_HEX, base64url: base64url(KEY_HEX)});

/** kid (base64url) -> key (base64url), the shape startClearKeyServer({keys}) takes. */
export const KEYS = Object.freeze({[kid.base64url]: key.base64url});
