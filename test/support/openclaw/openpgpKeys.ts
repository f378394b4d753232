// Throwaway OpenPGP keys for the tests (ed25519, made with gpg for nothing else): never used to sign
// anything that matters.

/** A public key as `gpg --armor --export` prints it. */
export const ARMOURED_PUBLIC_KEY = [
  "-----BEGIN PGP PUBLIC KEY BLOCK-----",
  "",
  "mDMEaw2bJxYJKwYBBAHaRw8BAQdA1OgMrP7X7wzBfWqHTNCqbaW/vxfrrUBD4inA",
  "TO5a1lu0LW90aGVyLWtleSA8b3RoZXIta2V5QG9wZW5jbGF3LXNlcnZlci5pbnZh",
  "bGlkPoiQBBMWCAA4FiEE0FAObtR5wKjZUiNZ+xVjn+IUaTQFAmsNmycCGwMFCwkI",
  "BwIGFQoJCAsCBBYCAwECHgECF4AACgkQ+xVjn+IUaTQiswEA09qWMgOfLVVZg/Gp",
  "h35POxKWgjOIPyZOidqKsw9kiP4BAOd9ueJfUDfPBqCVeyKPtNidwyglPEZ9oLbj",
  "QR09akMP",
  "=xFo6",
  "-----END PGP PUBLIC KEY BLOCK-----",
].join("\n");

/** A secret key (`gpg --armor --export-secret-keys`, no passphrase): what must never be accepted as an apt key. */
export const ARMOURED_PRIVATE_KEY = [
  "-----BEGIN PGP PRIVATE KEY BLOCK-----",
  "",
  "lFgEaxAiDxYJKwYBBAHaRw8BAQdAPjpcftWPw2NhUyCoDOsuizVTwi6cDK2y7qJi",
  "YtxIuHUAAQD7rdq4HCtGKyGL40sA+lcVlymVBRc+yjzWTKqW/cvUTQ8ztC10aHJv",
  "d2F3YXkgPHRocm93YXdheUBvcGVuY2xhdy1zZXJ2ZXIuaW52YWxpZD6IkAQTFggA",
  "OBYhBHqYGGw2LAUlEQIYTpc/fF/VG1/rBQJrECIPAhsDBQsJCAcCBhUKCQgLAgQW",
  "AgMBAh4BAheAAAoJEJc/fF/VG1/rtvkBAJDaAxg+GbspQOMMRWSbAREs9TkVbGWr",
  "eGFmTW+laY8nAP4911Miqnfgz+4Vj/5pA8zVWp7bXwM/GSOgCXRbVFQJCg==",
  "=Fxnf",
  "-----END PGP PRIVATE KEY BLOCK-----",
].join("\n");
