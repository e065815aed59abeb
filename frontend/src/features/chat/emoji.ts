export interface Emoji {
  e: string;
  /** Its name, as a screen reader says it. */
  label: string;
  /** The words the search field matches. */
  name: string;
}

/** The picker's emoji, most used first. */
export const EMOJI: readonly Emoji[] = [
  { e: '👍', label: 'thumbs up', name: 'thumbs up like yes' },
  { e: '❤️', label: 'red heart', name: 'red heart love' },
  { e: '😂', label: 'face with tears of joy', name: 'face with tears of joy laugh' },
  { e: '😮', label: 'face with open mouth', name: 'face with open mouth surprised wow' },
  { e: '😢', label: 'crying face', name: 'crying face sad' },
  { e: '🙏', label: 'folded hands', name: 'folded hands thanks please' },
  { e: '🎉', label: 'party popper', name: 'party popper celebrate tada' },
  { e: '🔥', label: 'fire', name: 'fire hot lit' },
  { e: '👀', label: 'eyes', name: 'eyes looking' },
  { e: '✅', label: 'check mark', name: 'check mark done' },
  { e: '👎', label: 'thumbs down', name: 'thumbs down dislike no' },
  { e: '😀', label: 'grinning face', name: 'grinning face smile happy' },
  { e: '😊', label: 'smiling face', name: 'smiling face blush' },
  { e: '😉', label: 'winking face', name: 'winking face wink' },
  { e: '😍', label: 'smiling face with heart eyes', name: 'smiling face with heart eyes love' },
  { e: '🤔', label: 'thinking face', name: 'thinking face hmm' },
  { e: '😎', label: 'smiling face with sunglasses', name: 'smiling face with sunglasses cool' },
  { e: '😅', label: 'grinning face with sweat', name: 'grinning face with sweat relief' },
  { e: '🙌', label: 'raising hands', name: 'raising hands hooray' },
  { e: '👏', label: 'clapping hands', name: 'clapping hands applause' },
  { e: '💯', label: 'hundred points', name: 'hundred points perfect' },
  { e: '🚀', label: 'rocket', name: 'rocket launch ship' },
  { e: '⭐', label: 'star', name: 'star' },
  { e: '💡', label: 'light bulb', name: 'light bulb idea' },
  { e: '☕', label: 'hot beverage', name: 'hot beverage coffee tea' },
  { e: '🍕', label: 'pizza', name: 'pizza food' },
  { e: '😡', label: 'angry face', name: 'angry face pouting mad' },
  { e: '😴', label: 'sleeping face', name: 'sleeping face tired' },
  { e: '🤝', label: 'handshake', name: 'handshake deal agree' },
  { e: '👋', label: 'waving hand', name: 'waving hand hello bye' },
];

/** The emoji whose name has every word of the query (case-insensitive), in the picker's order. */
export function searchEmoji(query: string): readonly Emoji[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return EMOJI;
  return EMOJI.filter((x) => words.every((w) => x.name.split(' ').some((n) => n.startsWith(w))));
}

/** The first few, offered on the reaction bar. */
export const QUICK = EMOJI.slice(0, 6).map((x) => x.e);
