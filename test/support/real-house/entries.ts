// What the real-house tree is made of: files (plain or executable), symlinks, and Home
// Assistant's own files on the host, each described by its path and the kind of content that
// fills it, so the tree can be listed, hashed and reasoned about without generating 400 MB.

/** The kinds of content, each generated so it compresses and parses like the real thing. */
export type ContentKind =
  // Home Assistant and ESPHome YAML
  | 'configuration'
  | 'automations-ui'
  | 'scripts-ui'
  | 'scenes-ui'
  | 'customize'
  | 'package'
  | 'automation-list'
  | 'dashboard'
  | 'dashboard-view'
  | 'blueprint'
  | 'esphome-device'
  | 'esphome-common'
  | 'esphome-secrets-placeholder'
  | 'secrets-placeholder'
  | 'theme'
  | 'services'
  | 'yamllint'
  | 'ci-workflow'
  // code and data as text
  | 'python'
  | 'manifest'
  | 'translation'
  | 'javascript'
  | 'source-map'
  | 'css'
  | 'shell'
  | 'markdown'
  | 'svg'
  | 'gitignore'
  | 'empty'
  // bytes that do not compress
  | 'pyc'
  | 'gzip'
  | 'png'
  | 'jpeg'
  | 'mp3'
  | 'tflite'
  | 'font'
  | 'firmware'
  // Home Assistant's own state, on the host only
  | 'secrets'
  | 'esphome-secrets'
  | 'storage-json'
  | 'sqlite'
  | 'sqlite-wal'
  | 'sqlite-shm'
  | 'log'
  | 'ha-version'
  | 'uuid'
  | 'ip-bans'
  | 'known-devices'
  | 'run-lock'
  | 'backup-tar'
  | 'esphome-build';

/** A regular file of the repository. `size` is its exact length in bytes. */
export interface TreeFile {
  path: string;
  kind: 'file' | 'executable';
  content: ContentKind;
  size: number;
  /** 0 in the first commit; a change gives the files it rewrites a new variant (new bytes). */
  variant: number;
  /**
   * Set on the few paths a repository commits although Home Assistant owns them on the host
   * (bytecode in `__pycache__/`, a placeholder `secrets.yaml` for CI): why a deploy must leave them.
   */
  ownedByHost?: string;
}

/** A symlink of the repository, with the text git stores and what that text names. */
export interface TreeLink {
  path: string;
  kind: 'symlink';
  /** The link text, committed and deployed as it is. */
  target: string;
  /** Whether it names a folder or a file of the repository. */
  names: 'file' | 'folder';
  /** The repository path it reaches, read as Home Assistant reads it (`/config/x` is `x`). */
  reaches: string;
  /** `/config/...` (Home Assistant's own path) or `/homeassistant/...` (an add-on's view of it). */
  absolute: boolean;
}

export type TreeEntry = TreeFile | TreeLink;

/** Why a path belongs to the host and not to the repository. */
export type HostOwnership =
  /** Home Assistant's state, secrets or caches: a deploy must never write or delete it. */
  | 'protected'
  /** Written on the host by an add-on or a service call (ESPHome builds, camera snapshots): not the repository's, but not Home Assistant's state either. */
  | 'unmanaged';

/** A file Home Assistant (or an add-on) keeps in the config folder on the host. */
export interface HostFile {
  path: string;
  content: ContentKind;
  size: number;
  ownership: HostOwnership;
  /** One line: what writes it. */
  writtenBy: string;
  /** True for the few paths a repository also commits (bytecode, a placeholder secrets file): the host keeps its own bytes. */
  alsoInRepository: boolean;
}

/** What the layout knows that the content of some files must agree with. */
export interface HouseFacts {
  /** Every `!secret` name the repository's Home Assistant YAML uses: the host's secrets.yaml defines each. */
  secretNames: string[];
  /** Every `!secret` name of the ESPHome YAML: the host's esphome/secrets.yaml defines each. */
  esphomeSecretNames: string[];
  /** YAML dashboards configuration.yaml declares, with their files. */
  dashboards: { slug: string; title: string; file: string }[];
  /** shell_command entries and the executable each runs. */
  shellCommands: { name: string; script: string }[];
  automations: number;
  scripts: number;
  scenes: number;
  /** The custom integrations (folders of custom_components/) and HACS cards (of www/community/) the house has. */
  integrations: string[];
  cards: string[];
}

/** A file the layout plans before sizes are scaled to the budget. */
export interface Draft {
  path: string;
  content: ContentKind;
  /** The size it would have in a real house; scaled with its category to meet the total. */
  natural: number;
  executable?: boolean;
  ownedByHost?: string;
}
