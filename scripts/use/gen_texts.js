// gen_texts.js writes the test inputs of embed/use (a JSON array of strings)
// to the path given as its argument, or to stdout. The list is deterministic:
// hand-written sentences plus generated variations that stress the
// tokenizer (case, punctuation, numbers, scripts, emoji, whitespace,
// normalisation) and the model (long inputs past the 128-token limit).
//
//   node scripts/use/gen_texts.js embed/use/testdata/texts.json
'use strict';

const fs = require('fs');

const sentences = [
  'how do I bake bread',
  'recipe for sourdough loaf',
  'the stock market fell today',
  'What is the boiling point of water at sea level?',
  'Photosynthesis converts light energy into chemical energy.',
  'The quick brown fox jumps over the lazy dog.',
  'She sells sea shells by the sea shore.',
  'Interest rates were raised by a quarter of a percentage point.',
  'The committee postponed its decision until next spring.',
  'Can you recommend a good book about the history of Rome?',
  'My laptop battery drains too fast after the update.',
  'Reset your password from the account settings page.',
  'The patient was prescribed antibiotics for ten days.',
  'Heavy rain is expected throughout the weekend in the north.',
  'The laminar boundary layer separates near the trailing edge.',
  'Supersonic flow over a wedge produces an oblique shock wave.',
  'Heat transfer in a turbulent pipe flow increases with Reynolds number.',
  'The buckling load of a thin cylindrical shell under axial compression.',
  'A neural network learns a mapping from inputs to outputs.',
  'Gradient descent minimises the loss function step by step.',
  'The court ruled that the contract was void.',
  'He scored twice in the second half to win the match.',
  'Tickets for the concert sold out within minutes.',
  'The museum reopens on Tuesday with a new exhibition.',
  'Add two cups of flour and a pinch of salt.',
  'Preheat the oven to 220 degrees before baking.',
  'The train to Edinburgh departs from platform four.',
  'Our flight was delayed because of fog.',
  'Vaccines train the immune system to recognise a pathogen.',
  'The central bank warned about rising inflation.',
  'Quarterly revenue grew eight percent year over year.',
  'The river flooded the valley after the dam failed.',
  'Volcanic ash grounded flights across Europe.',
  'A black hole bends light that passes near it.',
  'The telescope observed a galaxy thirteen billion light years away.',
  'Please find attached the invoice for last month.',
  'I am writing to complain about a faulty product.',
  'The meeting has been moved to three o\'clock.',
  'Don\'t forget to water the plants while I\'m away.',
  'It\'s raining cats and dogs.',
  'They\'re going to the park, aren\'t they?',
  'The algorithm runs in O(n log n) time.',
  'Install the package with your system package manager.',
  'Memory leaks occur when allocated memory is never released.',
  'Use a mutex to protect shared state between goroutines.',
  'The database index speeds up lookups by primary key.',
  'Cosine similarity measures the angle between two vectors.',
  'Search engines rank documents by relevance to a query.',
  'Elephants are the largest land animals on Earth.',
  'Bees communicate the location of flowers by dancing.',
  'The violin concerto was composed in 1878.',
  'Shakespeare wrote Hamlet around the year 1600.',
  'The treaty was signed in Paris in 1783.',
  'Mount Everest is 8,849 metres tall.',
  'Water freezes at 0 °C and boils at 100 °C.',
  'The speed of light is about 299,792,458 m/s.',
  'Pi is approximately 3.14159265358979.',
  'Call me at +1 (555) 123-4567 or email jane.doe@example.com.',
  'Visit https://www.example.org/path?query=1&lang=en for details.',
  'The price went from $19.99 to €24.50 overnight.',
  'Version 2.3.1-beta fixes bug #4521.',
  'Order #A-1029 shipped on 2024-03-15 at 14:30 UTC.',
  'Temperature: -40°F equals -40°C.',
  'The ratio was 3:2, or 60% to 40%.',
  'x = y^2 + 3*z - 7 / (a + b)',
  'for (int i = 0; i < n; i++) { sum += a[i]; }',
  'SELECT name, age FROM users WHERE age > 30 ORDER BY name;',
  'def add(a, b):\n    return a + b',
  '{"key": "value", "list": [1, 2, 3]}',
  '<div class="header">Welcome</div>',
  'C:\\Program Files\\App\\config.ini',
  'rm -rf /tmp/cache && make build',
  'Le chat est sur la table.',
  'Où est la gare, s\'il vous plaît ?',
  'Ça coûte combien ? C\'est très cher.',
  'Der schnelle braune Fuchs springt über den faulen Hund.',
  'Die Straße ist nass, weil es geregnet hat.',
  '¿Dónde está la biblioteca?',
  'El niño comió una manzana.',
  'A criança está a brincar no jardim.',
  'Il treno parte alle otto e mezza.',
  'De kat zit op de mat.',
  'Привет, как дела?',
  'Москва — столица России.',
  'Καλημέρα, τι κάνεις;',
  '東京は日本の首都です。',
  '我喜欢学习中文。',
  '오늘 날씨가 좋네요.',
  'مرحبا بالعالم',
  'שלום עולם',
  'नमस्ते दुनिया',
  'สวัสดีครับ',
  'Xin chào thế giới',
  'naïve café résumé façade coöperate',
  'Zoë and Chloë visited Curaçao.',
  'Smörgåsbord, fjörd, Ærø, Øresund.',
  'I love pizza 🍕 and coffee ☕!',
  '😀😃😄😁',
  'Family: 👨‍👩‍👧‍👦 flags: 🇬🇧🇫🇷',
  'Thumbs up 👍🏽 and a heart ❤️',
  'Ｆｕｌｌｗｉｄｔｈ ｔｅｘｔ １２３',
  'ﬁnancial ﬂow and the ﬀ ligature',
  'Circled ① ② ③ and superscript x² y³',
  'Units: ㎞ ㎏ ℃ ㍻',
  'Roman numerals Ⅻ and Ⅳ',
  'e\u0301 versus é (combining acute)',
  'zero\u200bwidth\u200bspace',
  'soft\u00adhyphen and non\u00a0breaking space',
  'tab\tseparated\tvalues',
  'line one\nline two\nline three',
  'windows\r\nline endings',
  'bell\u0007 and escape\u001b characters',
  'null \u0000 byte inside',
  'replacement \uFFFD character',
  'ALL CAPS SENTENCE ABOUT NOTHING',
  'all lower case sentence about nothing',
  'MiXeD CaSe SeNtEnCe',
  'camelCaseIdentifier and snake_case_identifier',
  'Hello!!! Are you there??? ...',
  '!!!???...,,,;;;:::',
  '"Quoted," she said, \'single quoted\'.',
  '“Curly quotes” and ‘single curly’ and „German“ «French»',
  '”5 stars” from the critics',
  'smileys :) :-) :( ;) :D',
  'time 10:00 and 12:00:00',
  'http://a.b/c :// ftp://host',
  'em—dash en–dash hyphen-minus',
  'ellipsis… and bullet • point',
  '(parentheses) [brackets] {braces} <angles>',
  '@mention #hashtag $cash %percent ^caret &amp *star',
  '~tilde `backtick` |pipe| \\backslash',
  'a',
  'I',
  '.',
  '?',
  '0',
  '42',
  '3.14',
  '1,000,000',
  '2024',
  'Q',
  'ok',
  'hi there',
  'bread',
  'sourdough',
  'antidisestablishmentarianism',
  'pneumonoultramicroscopicsilicovolcanoconiosis',
  'supercalifragilisticexpialidocious',
  'qwertyuiopasdfghjklzxcvbnm',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  'the the the the the the the the',
  'xkcd zzz qqq vvv',
];

const specials = [
  '',
  ' ',
  '   ',
  '\t',
  '\n',
  '\n\n\n',
  ' \t \n ',
  '  leading spaces',
  'trailing spaces   ',
  'multiple    inner     spaces',
  '\u3000ideographic space\u3000',
  '\u00a0',
  '▁',
  '▁▁ already marked',
  '�',
  '<s> </s> extra_token_id_1',
];

// Long inputs, past the 128-token limit the model keeps.
const words = ('the aerodynamic heating of a blunt body in hypersonic flow depends ' +
  'on the nose radius the free stream velocity and the density of the ' +
  'surrounding gas while the skin friction follows from the boundary ' +
  'layer thickness').split(' ');
function longText(n, seed) {
  const out = [];
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(words[x % words.length]);
  }
  return out.join(' ') + '.';
}
const longs = [
  longText(60, 1),
  longText(110, 2),
  longText(127, 3),
  longText(128, 4),
  longText(129, 5),
  longText(200, 6),
  longText(600, 7),
  longText(3000, 8),
  sentences.slice(0, 40).join(' '),
  sentences.join(' '),
  'word '.repeat(500).trim(),
  '😀'.repeat(300),
  'ab'.repeat(2000),
  '日本語のテキスト。'.repeat(100),
];

// Variations of a few sentences: case, punctuation, spacing, prefixes.
const variants = [];
const base = sentences.slice(0, 24);
for (let i = 0; i < base.length; i++) {
  const s = base[i];
  switch (i % 6) {
    case 0: variants.push(s.toUpperCase()); break;
    case 1: variants.push(s.toLowerCase().replace(/[.?!]$/, '')); break;
    case 2: variants.push('  ' + s.replace(/ /g, '  ') + '  '); break;
    case 3: variants.push(s + ' ' + s); break;
    case 4: variants.push('Q: ' + s + ' A: unknown.'); break;
    case 5: variants.push(s.split('').reverse().join('')); break;
  }
}
for (let i = 0; i < 12; i++) {
  variants.push(`Item ${i * 37} of ${1000 + i * 113}: ${base[(i * 5) % base.length]}`);
}

const texts = [...sentences, ...specials, ...longs, ...variants];
const json = JSON.stringify(texts, null, 0) + '\n';
if (process.argv[2]) {
  fs.writeFileSync(process.argv[2], json);
  process.stderr.write(`wrote ${texts.length} texts to ${process.argv[2]}\n`);
} else {
  process.stdout.write(json);
}
