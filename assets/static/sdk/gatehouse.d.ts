// Types for gatehouse.js, the Gatehouse web SDK (served beside it at
// /sdk/v1/gatehouse.d.ts). The module has no dependencies.

export declare const VERSION: string;

export interface ClientOptions {
  /** The app's client id (console: Apps). The app must be of type spa. */
  clientId: string;
  /** One of the app's exact redirect URIs; the page that calls handleRedirect(). */
  redirectUri: string;
  /** The tenant's issuer, e.g. "https://login.acme.com". Default: the origin that served gatehouse.js. */
  issuer?: string;
  /** Scopes to ask for. Default "openid profile email offline_access" (offline_access gives the refresh token). */
  scope?: string;
  /**
   * Where tokens are kept. "memory" (default): this tab's memory, shared
   * with the app's other open tabs, gone on reload (login() then signs in
   * again through the hosted session, without a form). "session":
   * sessionStorage, survives reloads of this tab. "local": localStorage,
   * survives closing the browser. Storage is readable by any script on
   * the page, so an XSS can take the tokens.
   */
  storage?: "memory" | "session" | "local";
  /** Default post-logout redirect URI for logout(); must be registered for the app. */
  postLogoutRedirectUri?: string;
}

export interface LoginOptions {
  /** Open the hosted sign-up instead of sign-in (prompt=create). */
  signup?: boolean;
  /** Pre-fills the email (login_hint). */
  loginHint?: string;
  /** Where handleRedirect() says to go afterwards. Default: the current URL. */
  returnTo?: string;
  /** Scopes for this sign-in only. */
  scope?: string;
  /** An OpenID prompt value, such as "login" to ask for the password again. */
  prompt?: string;
}

/** The verified claims of the id_token. */
export interface User {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  auth_time?: number;
  nonce?: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  given_name?: string;
  family_name?: string;
  [claim: string]: unknown;
}

export interface RedirectResult {
  user: User;
  returnTo: string;
}

/** A registration field, as GET /api/v1/schema and /api/v1/me/missing-fields give it. */
export interface Field {
  key: string;
  label: string;
  type: string;
  capture: "required" | "optional" | "later";
  help_text?: string;
  validation: Record<string, unknown>;
  options?: { value: string; label: string }[];
}

/** GET /api/v1/me. */
export interface Me {
  id: string;
  email: string;
  email_verified: boolean;
  status: string;
  has_password: boolean;
  profile: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}

export interface MissingFields {
  /** Fields the customer must fill before they can go on. */
  required: Field[];
  /** Optional fields not filled in yet. */
  optional: Field[];
  /** Whether the tenant wants the app to ask for the optional ones now. */
  askOptional: boolean;
}

/** GET /api/v1/schema: what a custom form needs to match the hosted pages. */
export interface Schema {
  name: string;
  fields: Field[];
  password: { min_length: number; max_length: number };
  email_verification: "required" | "optional";
  brand_login_only: boolean;
  theme: {
    primary_color: string;
    accent_color: string;
    background_color: string;
    text_color: string;
    button_text_color: string;
    font: string;
    font_stack: string;
    radius: number;
    logo_url: string;
    headline: string;
    signup_copy: string;
  };
}

export interface SignInOptions {
  email?: string;
  password?: string;
  /** Continues an InteractionRequired answer (with profile for missing fields). */
  authSession?: string;
  /** Values of missing required fields, by field key. */
  profile?: Record<string, unknown>;
  scope?: string;
}

export interface SignUpOptions {
  email: string;
  password: string;
  /** Registration field values, by field key. */
  profile?: Record<string, unknown>;
  scope?: string;
}

export interface Client {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly issuer: string;
  readonly scope: string;
  readonly storage: "memory" | "session" | "local";
  readonly version: string;
  /** Sends the browser to the hosted sign-in or sign-up. Never settles. */
  login(options?: LoginOptions): Promise<never>;
  /** Completes the sign-in on the redirect URI; null when the URL is no sign-in answer. */
  handleRedirect(url?: string): Promise<RedirectResult | null>;
  /** The id_token's verified claims, or null when signed out. */
  getUser(): Promise<User | null>;
  /** Whether this tab holds a session. */
  isAuthenticated(): Promise<boolean>;
  /** A valid access token, refreshed with rotation when needed. Throws LoginRequired or InvalidGrant. */
  getAccessToken(options?: { minValidity?: number; forceRefresh?: boolean }): Promise<string>;
  /** Signs out in every tab and ends the hosted session (RP-initiated logout). Never settles. */
  logout(options?: { returnTo?: string }): Promise<never>;
  /** Calls fn whenever the tab signs in or out; returns the unsubscribe function. */
  onChange(fn: (signedIn: boolean) => void): () => void;
  /** GET /api/v1/me. */
  me(): Promise<Me>;
  /** PATCH /api/v1/me with a JSON Merge Patch of the profile; null removes a value. Throws ValidationError. */
  updateProfile(patch: Record<string, unknown>): Promise<Me>;
  /** What progressive profiling still needs. */
  missingFields(): Promise<MissingFields>;
  /** GET /api/v1/schema. */
  schema(): Promise<Schema>;
  /** Headless sign-in with the brand's own form (first-party apps). Resolves to the verified claims. */
  signIn(options: SignInOptions): Promise<User | null>;
  /** Headless sign-up with the brand's own form (first-party apps). Resolves to the verified claims. */
  signUp(options: SignUpOptions): Promise<User | null>;
}

export declare function createClient(options: ClientOptions): Client;

/** A fresh PKCE pair: 43-character verifier, S256 challenge. */
export declare function createPKCE(): Promise<{ verifier: string; challenge: string; method: "S256" }>;

export declare class GatehouseError extends Error {
  /** An OAuth error code ("invalid_request"), or the SDK's own ("state_mismatch", "invalid_id_token", "network_error", "rate_limited", "http_403"). */
  code: string;
  /** The HTTP status behind the error, or 0. */
  status: number;
  requestId: string;
  /** Seconds to wait, for code "rate_limited". */
  retryAfter?: number;
}
export declare class LoginRequired extends GatehouseError {}
export declare class InvalidGrant extends GatehouseError {}
export declare class ValidationError extends GatehouseError {
  fields: { field: string; message: string }[];
}
export declare class InteractionRequired extends ValidationError {
  reason: "email_verification_required" | "profile_incomplete" | string;
  authSession: string;
  missingFields: Field[];
}

declare const Gatehouse: {
  createClient: typeof createClient;
  createPKCE: typeof createPKCE;
  GatehouseError: typeof GatehouseError;
  LoginRequired: typeof LoginRequired;
  InvalidGrant: typeof InvalidGrant;
  ValidationError: typeof ValidationError;
  InteractionRequired: typeof InteractionRequired;
  VERSION: string;
};
export default Gatehouse;

declare global {
  /** Set when gatehouse.js has loaded (as a module), for scripts that are not modules. */
  var Gatehouse: typeof import("./gatehouse.js").default;
}
