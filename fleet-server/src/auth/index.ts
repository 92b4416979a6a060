// Operators and how they prove who they are: users with roles, cookie sessions, bearer API tokens,
// the middleware that turns either into the request's principal, the accounts API, sign-in pages.
export { authApi } from './api.ts';
export { type AuthDeps, authenticate } from './middleware.ts';
export { type AuthPagesDeps, authPages } from './pages.tsx';
export { generatePassword, hashPassword, verifyPassword } from './passwords.ts';
export {
  endSession,
  login,
  logout,
  principalFromSession,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  sessionCookieOf,
  setSessionCookie,
} from './sessions.ts';
export { API_TOKEN_PREFIX, createApiToken, principalFromToken, revokeApiToken } from './tokens.ts';
export { createUser, disableUser, hashSecret, listUsers, setUserRole } from './users.ts';
