// The Worker's entry point. The Workers runtime requires a default export here, the one default
// export in the project.
import { app } from './app.ts';
import type { Env } from './env.ts';

export { TargetHub } from './hub/target-hub.ts';

export default {
  fetch(request, env, ctx) {
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
