import { z } from 'zod';

// Preemption section of the gateway config: approaches, conflict matrix, inputs, outputs,
// trusted vehicle keys and timing limits. Owned by the rt loop (issue 3); cross-field rules
// (conflict matrix completeness, output overlap, key format) live in `checkPreemption`.

export const roleSchema = z.enum(['ambulance', 'fire', 'police', 'transit']);
export type Role = z.infer<typeof roleSchema>;

export const approachSchema = z.strictObject({
  id: z
    .string()
    .min(1)
    .describe('Approach id used in priority requests and the conflict matrix, e.g. "north"'),
  name: z.string().optional(),
  /** Approach number carried in priority-request frames (inbound approach). */
  number: z.int().min(0).max(255),
  /** GPIO line (bench wire name or BCM line) driving this approach's preemption relay. */
  output: z.string().min(1),
  /** GPIO line reading back the relay contact, for stuck-contact detection. */
  readback: z.string().min(1).optional(),
  corridor: z
    .strictObject({
      headingDeg: z.number().min(0).lt(360).describe('Heading of a vehicle approaching on this approach'),
      headingToleranceDeg: z.number().gt(0).max(180).default(45),
      /** The corridor is a circle around the stop line: latitude/longitude in degrees, radius in metres. */
      centerLat: z.number().min(-90).max(90),
      centerLon: z.number().min(-180).max(180),
      radiusM: z.number().positive().max(5000),
    })
    .optional(),
});

export const vehicleKeySchema = z.strictObject({
  id: z.string().min(1).describe('Key id (vehicle unit or dispatch feed)'),
  /** Ed25519 public key, 32 raw bytes in base64url (43 characters, no padding). */
  publicKey: z.string(),
  roles: z.array(roleSchema).min(1),
  revoked: z.boolean().default(false),
});

export const preemptionSchema = z.strictObject({
  intersectionId: z.int().min(0).max(0xffff_ffff),
  approaches: z.array(approachSchema).min(1),
  /** Conflict matrix: every approach id maps to the approach ids it must never be asserted with. */
  conflicts: z.record(z.string(), z.array(z.string())),
  heartbeat: z.strictObject({ output: z.string().min(1), periodMs: z.int().min(1).max(1000).default(10) }),
  inputs: z
    .strictObject({
      radio: z.strictObject({ path: z.string().min(1), baud: z.int().positive().default(19200) }).optional(),
      udp: z
        .strictObject({ port: z.int().min(0).max(65535), host: z.string().default('0.0.0.0') })
        .optional(),
      optical: z
        .array(
          z.strictObject({
            line: z.string().min(1),
            approach: z.string().min(1),
            profile: z.string().default('optical-priority-detector'),
            accept: z.array(z.enum(['emergency', 'transit'])).default(['emergency']),
          }),
        )
        .default([]),
      testContact: z.strictObject({ line: z.string().min(1), approach: z.string().min(1) }).optional(),
    })
    .default({ optical: [] }),
  vehicleKeys: z.array(vehicleKeySchema).default([]),
  timing: z
    .strictObject({
      freshnessS: z.number().positive().max(60).default(2),
      updateTimeoutS: z.number().positive().max(60).default(3),
      holdMaxS: z.number().positive().max(600).default(120),
      minGapS: z.number().min(0).max(600).default(10),
      ratePerVehiclePerS: z.number().positive().max(100).default(10),
      selfTestMs: z.int().min(0).max(10_000).default(200),
      /** A request is armed until its ETA falls inside this window, then the approach is asserted. */
      etaWindowS: z.number().min(0).max(600).default(30),
      /**
       * After an output is switched off, conflicting approaches wait this long (and for the readback
       * to show the contact open) before they may be asserted: the controller's own handover time.
       */
      releaseMs: z.int().min(0).max(10_000).default(300),
      /** A relay's readback must follow its output within this time, or the contact is stuck (fault). */
      readbackSettleMs: z.int().min(1).max(5_000).default(100),
    })
    .default({
      freshnessS: 2,
      updateTimeoutS: 3,
      holdMaxS: 120,
      minGapS: 10,
      ratePerVehiclePerS: 10,
      selfTestMs: 200,
      etaWindowS: 30,
      releaseMs: 300,
      readbackSettleMs: 100,
    }),
});
export type PreemptionConfig = z.infer<typeof preemptionSchema>;

const BASE64URL_32 = /^[A-Za-z0-9_-]{43}$/;

/**
 * Cross-field rules that a per-field schema cannot express; each issue names its path and the fix.
 * Line overlaps (two outputs on one relay line) are checked across the whole config in schema.ts.
 */
export function checkPreemption(p: PreemptionConfig, ctx: z.RefinementCtx, base: (string | number)[]): void {
  const ids = new Set<string>();
  p.approaches.forEach((a, i) => {
    if (ids.has(a.id)) {
      ctx.addIssue({
        code: 'custom',
        path: [...base, 'approaches', i, 'id'],
        message: `approach id "${a.id}" is used twice; give each approach its own id`,
      });
    }
    ids.add(a.id);
  });
  p.approaches.forEach((a, i) => {
    const row = p.conflicts[a.id];
    if (!row) {
      ctx.addIssue({
        code: 'custom',
        path: [...base, 'conflicts', a.id],
        message: `approach "${a.id}" (approaches[${i}]) has no conflict entry; add conflicts.${a.id}: [ids it conflicts with] (use [] if none)`,
      });
      return;
    }
    row.forEach((other, j) => {
      if (!ids.has(other)) {
        ctx.addIssue({
          code: 'custom',
          path: [...base, 'conflicts', a.id, j],
          message: `unknown approach "${other}"; use one of: ${[...ids].join(', ')}`,
        });
      } else if (p.conflicts[other] && !p.conflicts[other].includes(a.id)) {
        // A missing row is reported once, as missing, not again as asymmetric.
        ctx.addIssue({
          code: 'custom',
          path: [...base, 'conflicts', other],
          message: `the conflict matrix must be symmetric: "${a.id}" conflicts with "${other}", so add "${a.id}" to conflicts.${other}`,
        });
      }
    });
  });
  for (const key of Object.keys(p.conflicts)) {
    if (!ids.has(key)) {
      ctx.addIssue({
        code: 'custom',
        path: [...base, 'conflicts', key],
        message: `conflict entry for unknown approach "${key}"; remove it or add the approach`,
      });
    }
  }
  p.vehicleKeys.forEach((k, i) => {
    if (!BASE64URL_32.test(k.publicKey)) {
      ctx.addIssue({
        code: 'custom',
        path: [...base, 'vehicleKeys', i, 'publicKey'],
        message:
          'malformed Ed25519 public key; expected the 32 raw key bytes in base64url (43 characters of A-Z a-z 0-9 - _)',
      });
    }
  });
  const optical = p.inputs.optical;
  optical.forEach((o, i) => {
    if (!ids.has(o.approach)) {
      ctx.addIssue({
        code: 'custom',
        path: [...base, 'inputs', 'optical', i, 'approach'],
        message: `unknown approach "${o.approach}"; use one of: ${[...ids].join(', ')}`,
      });
    }
  });
  const tc = p.inputs.testContact;
  if (tc && !ids.has(tc.approach)) {
    ctx.addIssue({
      code: 'custom',
      path: [...base, 'inputs', 'testContact', 'approach'],
      message: `unknown approach "${tc.approach}"; use one of: ${[...ids].join(', ')}`,
    });
  }
}
