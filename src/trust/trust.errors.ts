import { defineError } from '../shared/index.js'

/** Error codes of moderation and the admin tools (stable; clients switch on `code`). */
export const TrustErrors = {
  cannotBanAdmin: defineError('CANNOT_BAN_ADMIN', 409, 'Admins cannot be banned; demote the account first'),
  alreadyBanned: defineError('ALREADY_BANNED', 409, 'The user is already banned'),
  notBanned: defineError('NOT_BANNED', 409, 'The user is not banned'),
  categoryInUse: defineError('CATEGORY_IN_USE', 409, 'The category still has listings or sub-categories'),
  categoryCycle: defineError('CATEGORY_CYCLE', 409, 'A category cannot be moved under itself or its descendants'),
  slugTaken: defineError('SLUG_TAKEN', 409, 'A category with this slug exists'),
}
