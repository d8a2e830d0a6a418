/**
 * The RSA and elliptic-curve signature algorithms of RFC 7518 §3.1, the asymmetric ones a JWT
 * from another party may be signed with here: a shared-key (`HS*`) signature would need a secret,
 * and `none` proves nothing. Trusted issuers and enterprise identity providers are held to these;
 * client assertions also take `EdDSA` (`lambda/oauth/clients/client-keys.ts`).
 */
export const RSA_EC_SIGNATURE_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
] as const;
