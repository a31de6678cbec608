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

/** Error codes of reviews, replies and flags. */
export const ReviewErrors = {
  notReceived: defineError(
    'SHIPMENT_NOT_RECEIVED',
    409,
    'A shipment can be reviewed once the buyer has confirmed receipt',
  ),
  alreadyReviewed: defineError('ALREADY_REVIEWED', 409, 'This shipment has already been reviewed'),
  cannotReviewSelf: defineError('CANNOT_REVIEW_SELF', 403, 'Sellers cannot review their own sales'),
  notTheSeller: defineError('NOT_THE_SELLER', 403, 'Only the reviewed seller may reply'),
  alreadyReplied: defineError('ALREADY_REPLIED', 409, 'The seller has already replied to this review'),
  alreadyFlagged: defineError('ALREADY_FLAGGED', 409, 'You have already flagged this review'),
  alreadyHidden: defineError('ALREADY_HIDDEN', 409, 'The review is already hidden'),
  notHidden: defineError('NOT_HIDDEN', 409, 'The review is not hidden'),
  noOpenFlags: defineError('NO_OPEN_FLAGS', 409, 'The review has no open flags'),
}

/** Error codes of the moderation queue (reports and the removal of listings). */
export const ModerationErrors = {
  alreadyRemoved: defineError('LISTING_ALREADY_REMOVED', 409, 'The listing is already removed'),
  reportClosed: defineError('REPORT_CLOSED', 409, 'The report is already closed'),
}
