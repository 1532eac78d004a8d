// www/: the HACS frontend cards under www/community/<card>/ (a bundle and the .gz HACS writes
// beside it, often a source map, sometimes dozens of lazy chunks, a few bundles of several MB),
// and the house's own media: photos, floorplan tiles, SVG icons, fonts, and sounds kept under
// media/ (www/sounds links there).
import type { Draft } from './entries.ts';
import type { Prng } from './random.ts';
import { ROOMS, WORDS, phrase } from './text.ts';

const CARDS = [
  'lovelace-card-mod', 'lovelace-mushroom', 'button-card', 'apexcharts-card', 'mini-graph-card', 'mini-media-player',
  'lovelace-layout-card', 'bubble-card', 'kiosk-mode', 'swipe-card', 'lovelace-auto-entities', 'decluttering-card',
  'vertical-stack-in-card', 'lovelace-fold-entity-row', 'lovelace-slider-entity-row', 'multiple-entity-row',
  'lovelace-template-entity-row', 'weather-card', 'clock-weather-card', 'ha-floorplan', 'power-flow-card-plus', 'sankey-chart',
  'lovelace-hourly-weather', 'atomic-calendar-revive', 'lovelace-horizon-card', 'simple-thermostat', 'uptime-card',
  'restriction-card', 'text-divider-row', 'battery-state-card', 'navbar-card', 'streamline-card', 'lovelace-expander-card',
  'tabbed-card', 'config-template-card', 'stack-in-card', 'lovelace-state-switch', 'hui-element', 'browser-mod-popups',
];

/** Cards whose one bundle weighs several MB (charting and map libraries bundled in). */
const HEAVY_CARDS = ['plotly-graph-card', 'lovelace-xiaomi-vacuum-map-card', 'weather-radar-card', 'ha-map-card-plus'];

const BUNDLE = 60_000;
const CHUNK = 9_000;

function bundle(folder: string, name: string, natural: number, random: Prng, out: Draft[], withMap: boolean): void {
  out.push({ path: `${folder}/${name}`, content: 'javascript', natural });
  out.push({ path: `${folder}/${name}.gz`, content: 'gzip', natural: Math.round(natural * 0.28) });
  if (withMap) out.push({ path: `${folder}/${name}.map`, content: 'source-map', natural: Math.round(natural * 1.8) });
}

export interface CardsLayout {
  drafts: Draft[];
  names: string[];
}

/**
 * About `quota` files under www/community: one card of a few hundred lazy chunks when there is
 * room (30% of them), one heavy bundle per 4,000 files of the whole tree, and single-bundle or
 * chunked cards for the rest.
 */
export function cardsLayout(quota: number, treeFiles: number, random: Prng): CardsLayout {
  const out: Draft[] = [];
  const names: string[] = [];
  const heavy = Math.min(HEAVY_CARDS.length, Math.max(1, Math.round(treeFiles / 4_000)));
  for (const name of HEAVY_CARDS.slice(0, heavy)) {
    names.push(name);
    bundle(`www/community/${name}`, `${name}.js`, random.between(25, 45) * 100_000, random, out, false);
  }
  if (quota >= 600) {
    const name = 'frigate-hass-card';
    names.push(name);
    const folder = `www/community/${name}`;
    bundle(folder, `${name}.js`, BUNDLE * 4, random, out, true);
    const target = out.length + Math.round(quota * 0.3);
    while (out.length < target) bundle(folder, `${phrase(random, 1, '-')}-${random.next().toString(16).padStart(8, '0')}.js`, random.around(CHUNK), random, out, random.chance(30));
  }
  for (let i = 0; out.length < quota; i += 1) {
    const name = i < CARDS.length ? CARDS[i]! : `${phrase(random, 2, '-')}-card`;
    names.push(name);
    const folder = `www/community/${name}`;
    bundle(folder, `${name}.js`, random.around(BUNDLE), random, out, random.chance(35));
    if (random.chance(30)) {
      for (let c = random.around(6); c > 0; c -= 1) bundle(`${folder}/chunks`, `${random.next().toString(16).padStart(8, '0')}.js`, random.around(CHUNK), random, out, false);
    }
  }
  return { drafts: out.slice(0, quota), names };
}

/** The house's own media, exactly `count` files: photos, floorplan tiles, icons, fonts, sounds, screenshots. */
export function mediaLayout(count: number, random: Prng): Draft[] {
  const out: Draft[] = [];
  const makers: (() => Draft)[] = [
    () => ({ path: `www/images/${random.pick(ROOMS)}_${random.pick(WORDS)}_${out.length}.jpg`, content: 'jpeg', natural: random.around(150_000) }),
    () => ({ path: `www/floorplan/tiles/${random.below(8)}/tile_${out.length}.png`, content: 'png', natural: random.around(40_000) }),
    () => ({ path: `www/icons/${phrase(random, 2, '-')}-${out.length}.svg`, content: 'svg', natural: random.around(1_800) }),
    () => ({ path: `www/icons/${phrase(random, 2, '-')}-${out.length}.svg`, content: 'svg', natural: random.around(1_800) }),
    () => ({ path: `media/sounds/${random.pick(WORDS)}_${out.length}.mp3`, content: 'mp3', natural: random.around(60_000) }),
    () => ({ path: `www/backgrounds/${random.pick(WORDS)}_${out.length}.jpg`, content: 'jpeg', natural: random.around(300_000) }),
    () => ({ path: `docs/screenshots/${phrase(random, 2, '-')}-${out.length}.png`, content: 'png', natural: random.around(200_000) }),
    () => ({ path: `www/fonts/${random.pick(WORDS)}-${out.length}.woff2`, content: 'font', natural: random.around(35_000) }),
  ];
  if (count > 0) out.push({ path: 'media/sounds/doorbell.mp3', content: 'mp3', natural: 80_000 });
  if (count > 1) out.push({ path: 'www/floorplan/floorplan.svg', content: 'svg', natural: 400_000 });
  if (count > 2) out.push({ path: 'www/floorplan/floorplan.css', content: 'css', natural: 12_000 });
  while (out.length < count) out.push(makers[out.length % makers.length]!());
  return out;
}
