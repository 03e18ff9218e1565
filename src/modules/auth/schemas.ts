import { z } from '@hono/zod-openapi';
import { emailOut, instantOut, integerOut, text, uuidOut } from '../../http/schemas.js';

export const Email = text({ max: 254 })
  .toLowerCase()
  .pipe(z.email({ message: 'must be a valid email address' }))
  .openapi({ example: 'ada@example.com' });

/** NIST 800-63B: at least 8 characters, allow long passphrases, no composition rules. */
export const NewPassword = text({ max: 128, trim: false })
  .min(8, 'must be at least 8 characters')
  .max(128, 'must be at most 128 characters')
  .openapi({ example: 'correct horse battery staple' });

export const RegisterBody = z
  .object({
    email: Email,
    password: NewPassword,
    name: text({ min: 1, max: 100 }).optional().openapi({ example: 'Ada Lovelace' }),
  })
  .strict()
  .openapi('RegisterRequest');

export const LoginBody = z
  .object({
    email: Email,
    password: text({ min: 1, max: 128, trim: false }),
  })
  .strict()
  .openapi('LoginRequest');

export const RefreshBody = z
  .object({
    refreshToken: text({ min: 16, max: 256, trim: false }).openapi({ example: 'qH3x9Ue2o1k4qU2mWlZ5Zc0m2m3Cq8zC9b5S0xk0bV4' }),
  })
  .strict()
  .openapi('RefreshRequest');

export const UserSchema = z
  .object({
    id: uuidOut(),
    email: emailOut().openapi({ example: 'ada@example.com' }),
    role: z.enum(['customer', 'staff', 'admin']),
    name: z.string().nullable(),
    createdAt: instantOut().openapi({ example: '2026-11-28T17:49:23.000Z' }),
  })
  .openapi('User');

export const SessionSchema = z
  .object({
    user: UserSchema,
    accessToken: z.string().openapi({ description: 'HS256 JWT; send as `Authorization: Bearer <token>`.' }),
    tokenType: z.literal('Bearer'),
    expiresIn: integerOut().openapi({ description: 'Access token lifetime in seconds.', example: 900 }),
    refreshToken: z.string().openapi({ description: 'Opaque, single-use. Rotate it with /v1/auth/refresh.' }),
    refreshTokenExpiresAt: instantOut(),
  })
  .openapi('Session');

export type RegisterInput = z.infer<typeof RegisterBody>;
export type LoginInput = z.infer<typeof LoginBody>;
