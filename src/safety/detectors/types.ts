/** Shapes shared by the detectors. */

/** PII kinds, in placeholder form (`[EMAIL_1]`). */
export const PII_TYPES = ['email', 'phone', 'card', 'iban', 'ssn', 'ip', 'secret', 'address'] as const;
export type PiiType = (typeof PII_TYPES)[number];

/** One detected span in a text: its kind, the detector that fired and its position (never the value). */
export interface PiiFinding {
  type: PiiType;
  /** The detector that fired, e.g. `card.luhn`, `secret.prefix`, `phone.us`. */
  detector: string;
  /** Offsets in UTF-16 code units, end exclusive. */
  start: number;
  end: number;
}
