/*
 * Made-up Paystack data shared by the built-in simulator and the test fake (one list, so
 * the two cannot drift): Nigeria's banks as `GET /bank` lists them, the account names a bank
 * "holds", and Paystack's fee on a local card charge.
 */

export type PaystackBankData = { id: number; name: string; slug: string; code: string; longcode: string }

/** Nigerian banks (names, codes and slugs as on Paystack; the ids are made up), in Paystack's order (by name). */
export const PAYSTACK_BANKS: readonly PaystackBankData[] = [
  { id: 1, name: 'Access Bank', slug: 'access-bank', code: '044', longcode: '044150149' },
  { id: 2, name: 'Fidelity Bank', slug: 'fidelity-bank', code: '070', longcode: '070150003' },
  { id: 3, name: 'First Bank of Nigeria', slug: 'first-bank-of-nigeria', code: '011', longcode: '011151003' },
  { id: 4, name: 'Guaranty Trust Bank', slug: 'guaranty-trust-bank', code: '058', longcode: '058152036' },
  { id: 5, name: 'Kuda Bank', slug: 'kuda-bank', code: '50211', longcode: '50211' },
  { id: 6, name: 'Moniepoint MFB', slug: 'moniepoint-mfb-ng', code: '50515', longcode: '50515' },
  { id: 7, name: 'OPay Digital Services Limited (OPay)', slug: 'paycom', code: '999992', longcode: '999992' },
  { id: 8, name: 'PalmPay', slug: 'palmpay', code: '999991', longcode: '999991' },
  { id: 9, name: 'Sterling Bank', slug: 'sterling-bank', code: '232', longcode: '232150016' },
  { id: 10, name: 'Test Bank', slug: 'test-bank', code: '001', longcode: '001' },
  { id: 11, name: 'United Bank For Africa', slug: 'united-bank-for-africa', code: '033', longcode: '033153513' },
  { id: 12, name: 'Wema Bank', slug: 'wema-bank', code: '035', longcode: '035150103' },
  { id: 13, name: 'Zenith Bank', slug: 'zenith-bank', code: '057', longcode: '057150013' },
]

const FIRST_NAMES = [
  'ADAEZE',
  'BOLANLE',
  'CHIDI',
  'DAMILOLA',
  'EMEKA',
  'FUNMILAYO',
  'GBENGA',
  'HAUWA',
  'IFEOMA',
  'JIDE',
]
const LAST_NAMES = ['ADEYEMI', 'BELLO', 'CHUKWU', 'DANJUMA', 'EZE', 'FASHOLA', 'GARBA', 'IBRAHIM', 'NWOSU', 'OKAFOR']

/**
 * The name a bank gives an account nobody registered: made up from its digits, the same
 * every time; a number starting with `000` (or not 10 digits) resolves to nothing.
 */
export function madeUpAccountName(accountNumber: string): string | undefined {
  if (!/^\d{10}$/.test(accountNumber) || accountNumber.startsWith('000')) return undefined
  const digits = [...accountNumber].map(Number)
  const sum = digits.reduce((a, b) => a + b, 0)
  return `${FIRST_NAMES[sum % 10]} ${LAST_NAMES[digits[9]!]} ${LAST_NAMES[digits[8]!]}`
}

/** Paystack's fee on a local card charge, as verify reports it: 1.5 % + ₦100, at most ₦2,000. */
export const cardFeeOf = (amount: number) => Math.min(Math.round(amount * 0.015) + 10_000, 200_000)
