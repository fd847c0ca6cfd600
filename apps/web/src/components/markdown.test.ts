import { describe, expect, it } from 'vitest';
import { parseBlocks } from './Markdown';

describe('parseBlocks', () => {
  it('reads headings, lists, code and paragraphs', () => {
    const blocks = parseBlocks('# Title\n\nSome *text*\nmore.\n\n- a\n- b\n\n1. one\n2. two\n\n```\n<b>x</b>\n```\n');
    expect(blocks).toEqual([
      { type: 'heading', level: 1, text: 'Title' },
      { type: 'para', text: 'Some *text* more.' },
      { type: 'list', ordered: false, items: ['a', 'b'] },
      { type: 'list', ordered: true, items: ['one', 'two'] },
      { type: 'code', text: '<b>x</b>' },
    ]);
  });
});
