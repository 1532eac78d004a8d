// Source code and data of custom integrations and frontend cards, as text of an exact size:
// Python modules, manifest.json and translations, minified JavaScript bundles with their source
// maps, CSS, SVG icons and shell scripts. Identifiers are drawn per file, so two files never share
// long runs (git's delta compression would otherwise shrink the repository far below a real one).
import type { Prng } from './random.ts';
import { WORDS, exactText, phrase, title, words } from './text.ts';
import { TokenSoup } from './token-soup.ts';

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const TYPES = ['str', 'int', 'float', 'bool', 'dict[str, Any]', 'list[str]', 'datetime', 'ConfigEntry', 'HomeAssistant'];

function camel(random: Prng): string {
  const first = random.pick(WORDS);
  const second = random.pick(WORDS);
  return first + second.charAt(0).toUpperCase() + second.slice(1);
}

function pascal(random: Prng): string {
  const name = camel(random);
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** A Python module of a custom integration. */
export function pythonText(module: string, size: number, random: Prng): Buffer {
  const head = `"""${title(random, 4)} for ${module}."""\nfrom __future__ import annotations\n\nimport logging\nfrom datetime import datetime, timedelta\nfrom typing import Any\n\nfrom homeassistant.config_entries import ConfigEntry\nfrom homeassistant.core import HomeAssistant, callback\nfrom homeassistant.helpers.update_coordinator import CoordinatorEntity\n\nfrom .const import DOMAIN, CONF_${phrase(random, 1).toUpperCase()}\n\n_LOGGER = logging.getLogger(__name__)\n\n`;
  const record = (i: number): string => {
    const name = phrase(random, 2);
    if (i % 3 === 2) {
      const cls = pascal(random);
      return `\nclass ${cls}${i}(CoordinatorEntity):\n    """${title(random, 6)}."""\n\n    _attr_has_entity_name = True\n    _attr_translation_key = "${name}"\n\n    def __init__(self, coordinator: Any, ${random.pick(WORDS)}: ${random.pick(TYPES)}) -> None:\n        super().__init__(coordinator)\n        self._attr_unique_id = f"{coordinator.entry_id}_${name}"\n\n    @property\n    def native_value(self) -> ${random.pick(TYPES)} | None:\n        return self.coordinator.data.get("${random.pick(WORDS)}")\n\n`;
    }
    const arg = random.pick(WORDS);
    return `\nasync def async_${name}_${i}(hass: HomeAssistant, entry: ConfigEntry, ${arg}: ${random.pick(TYPES)}) -> ${random.pick(TYPES)} | None:\n    """${title(random, 7)}."""\n    ${name} = entry.data.get(CONF_${random.pick(WORDS).toUpperCase()}, ${random.between(0, 3600)})\n    if ${name} is None:\n        _LOGGER.debug("${title(random, 5)} %s for %s", ${arg}, entry.entry_id)\n        return None\n    return await hass.async_add_executor_job(_${random.pick(WORDS)}_${random.pick(WORDS)}, ${name}, timedelta(seconds=${random.between(5, 300)}))\n\n`;
  };
  return exactText(size, { head, record, fillOpen: '# ', fillClose: '\n' }, random);
}

export function manifestJson(domain: string, random: Prng): Buffer {
  const manifest = {
    domain,
    name: title(random, 2),
    codeowners: [`@${random.pick(WORDS)}${random.between(1, 99)}`],
    config_flow: true,
    dependencies: [],
    documentation: `https://example.org/${domain}`,
    iot_class: random.pick(['cloud_polling', 'local_polling', 'local_push', 'cloud_push']),
    issue_tracker: `https://example.org/${domain}/issues`,
    requirements: [`${random.pick(WORDS)}-${random.pick(WORDS)}==${random.between(0, 9)}.${random.between(0, 30)}.${random.between(0, 9)}`],
    version: `${random.between(0, 5)}.${random.between(0, 20)}.${random.between(0, 9)}`,
  };
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
}

/** translations/<lang>.json: entity names and states, then config-flow strings. */
export function translationJson(size: number, random: Prng): Buffer {
  return exactText(
    size,
    {
      head: `{\n  "title": "${title(random, 2)}",\n  "entity": {\n    "sensor": {\n`,
      record: (i) => `      "${phrase(random, 2)}_${i}": {\n        "name": "${title(random, 3)}",\n        "state": {\n          "on": "${title(random, 2)}",\n          "off": "${title(random, 2)}"\n        }\n      },\n`,
      fillOpen: '      "zz_notes": {\n        "name": "',
      fillClose: '"\n      }\n',
      tail: '    }\n  }\n}\n',
    },
    random,
  );
}

function identifier(random: Prng): string {
  // Minifiers give the most used names one letter, the rest two.
  return random.chance(60) ? LETTERS.charAt(random.below(LETTERS.length)) : LETTERS.charAt(random.below(52)) + LETTERS.charAt(random.below(26));
}

const PUNCTUATION = ['(', ')', ',', ';', '=', '.', '=>', '&&', '||', '?', ':', '{', '}', '){', '},', '[', ']', '+', '!', '===', '!=='];
const KEYWORDS = ['return ', 'const ', 'let ', 'var ', 'function(', 'this.', 'void 0', '!0', '!1', 'null', 'new ', 'await ', 'async ', 'class ', ' extends ', 'typeof ', 'if(', 'else ', 'for(', 'throw new Error(', 'customElements.define(', 'super(', 'static get properties(){return{', 'html`<div class="', '</div>`', '${'];

/** One token of minified JavaScript. */
function javascriptToken(random: Prng): string {
  switch (random.below(10)) {
    case 0:
    case 1:
    case 2:
      return identifier(random) + random.pick(PUNCTUATION);
    case 3:
    case 4:
      return `.${camel(random)}${random.pick(['(', '', '=', ','])}`;
    case 5:
    case 6:
      return random.pick(KEYWORDS);
    case 7:
      return `"${phrase(random, random.between(1, 3), '-')}"${random.pick(PUNCTUATION)}`;
    case 8:
      return `${random.below(random.chance(50) ? 10 : 100_000)}${random.pick(PUNCTUATION)}`;
    default:
      return random.pick(PUNCTUATION);
  }
}

/** A token of TypeScript source as a JSON string holds it: no quotes, no backslashes but `\n`. */
function sourceToken(random: Prng): string {
  switch (random.below(6)) {
    case 0:
      return `${camel(random)}${random.pick(['(', ')', ': ', ' = ', '.', ', '])}`;
    case 1:
      return random.pick(['\\n  ', '\\n    ', '\\n', ' {\\n', '}\\n', '});\\n']);
    case 2:
      return random.pick(['private ', 'public ', 'readonly ', 'return ', 'const ', 'this.', 'await ', 'string', 'number', 'HomeAssistant', 'void', 'if (', 'import { ', " } from '"]);
    case 3:
      return `'${phrase(random, random.between(1, 2), '-')}'`;
    default:
      return `${random.pick(WORDS)}${random.pick([' ', '.', '(', ')', ';'])}`;
  }
}

const VLQ = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function vlqToken(random: Prng): string {
  let segment = '';
  for (let k = random.between(2, 6); k > 0; k -= 1) segment += VLQ.charAt(random.below(VLQ.length));
  return segment + (random.chance(85) ? ',' : ';');
}

/** Real code repeats phrases of a few tokens (`this.hass.states[`, `function(t){return `): the vocabulary holds such phrases. */
function phraseOf(token: (random: Prng) => string, most: number): (random: Prng) => string {
  return (random) => {
    let text = '';
    for (let k = random.between(1, most); k > 0; k -= 1) text += token(random);
    return text;
  };
}

const JAVASCRIPT = new TokenSoup('javascript', phraseOf(javascriptToken, 4), 11);
const SOURCE = new TokenSoup('typescript-in-json', phraseOf(sourceToken, 4));
const MAPPINGS = new TokenSoup('vlq', phraseOf(vlqToken, 3));

/** A minified JavaScript bundle (a HACS card, a chunk of it, an integration's frontend). */
export function javascriptText(name: string, size: number, random: Prng): Buffer {
  return JAVASCRIPT.text(size, { head: `/*! ${name} | MIT License */\n`, tail: '\n', fillOpen: '/*', fillClose: '*/' }, random);
}

/** A source map: VLQ mappings (a third of it), then the original sources as JSON strings. */
export function sourceMapText(name: string, size: number, random: Prng): Buffer {
  const open = Buffer.from(`{"version":3,"file":"${name}","mappings":"`, 'latin1');
  const middle = Buffer.from(`","sources":["../src/${random.pick(WORDS)}.ts"],"sourcesContent":["`, 'latin1');
  const close = Buffer.from(`"],"names":["${camel(random)}","${camel(random)}"]}\n`, 'latin1');
  const mappings = Math.floor(size / 3);
  const sources = size - open.length - mappings - middle.length - close.length;
  if (sources < 0) return Buffer.concat([open, middle, close]);
  const out = Buffer.allocUnsafe(size);
  open.copy(out, 0);
  MAPPINGS.fillExactly(out, open.length, open.length + mappings, random, 'A');
  middle.copy(out, open.length + mappings);
  SOURCE.fillExactly(out, open.length + mappings + middle.length, size - close.length, random, ' ');
  close.copy(out, size - close.length);
  return out;
}

export function cssText(size: number, random: Prng): Buffer {
  return exactText(
    size,
    {
      head: ':host {\n  display: block;\n}\n',
      record: (i) => `.${phrase(random, 2, '-')}-${i} {\n  color: var(--${random.pick(WORDS)}-color);\n  margin: ${random.below(24)}px ${random.below(24)}px;\n  transition: opacity ${random.between(1, 9) * 50}ms ease-in;\n}\n`,
      fillOpen: '/* ',
      fillClose: ' */\n',
    },
    random,
  );
}

export function svgText(size: number, random: Prng): Buffer {
  const n = () => (random.below(24000) / 1000).toFixed(3);
  return exactText(
    size,
    {
      head: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">\n',
      record: () => `<path fill="#${random.next().toString(16).padStart(8, '0').slice(0, 6)}" d="M${n()} ${n()}L${n()} ${n()}C${n()} ${n()} ${n()} ${n()} ${n()} ${n()}Z"/>\n`,
      fillOpen: '<!-- ',
      fillClose: ' -->\n',
      tail: '</svg>\n',
    },
    random,
  );
}

/** An executable script a shell_command or the owner runs. */
export function shellText(size: number, random: Prng): Buffer {
  return exactText(
    size,
    {
      head: '#!/usr/bin/env bash\n# Run by Home Assistant through shell_command; paths are the container\'s.\nset -euo pipefail\ncd /config\n',
      record: () =>
        random.chance(50)
          ? `if [ -f "/config/${random.pick(WORDS)}.yaml" ]; then\n  echo "${words(random, 30).trim()}"\nfi\n`
          : `find /config/www/snapshots -name '*.jpg' -mtime +${random.between(1, 30)} -delete\n`,
      fillOpen: '# ',
      fillClose: '\n',
    },
    random,
  );
}
