import type { LineMessage } from '../../line/link-token-client';

/** What the bridge says in chat about linking: the one place to change the wording. */
export const START_LINK_TEXT = 'Link your LINE account to your membership. You can unlink at any time from this chat.';
export const UNLINKED_TEXT = 'Your LINE account is no longer linked to your membership.';
export const NOT_LINKED_TEXT = 'Your LINE account is not linked to a membership.';

export const textMessage = (text: string): LineMessage => ({ type: 'text', text });

/** A button to the brand's link page (its URL carries the link token). */
export const linkPageMessage = (uri: string): LineMessage => ({
  type: 'template',
  altText: START_LINK_TEXT,
  template: { type: 'buttons', text: START_LINK_TEXT, actions: [{ type: 'uri', label: 'Link account', uri }] },
});
