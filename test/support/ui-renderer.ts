import { createRenderer as createHubSpotRenderer } from '@hubspot/ui-extensions/testing';

/** How long a `waitFor` waits unless told: HubSpot's 1 s default is shorter than a re-render takes on a loaded CI machine. */
const WAIT_FOR_MS = 5_000;

type Location = Parameters<typeof createHubSpotRenderer>[0];

/** HubSpot's test renderer for an extension point, its `waitFor` given `WAIT_FOR_MS` by default. */
export function createRenderer<L extends Location>(location: L): ReturnType<typeof createHubSpotRenderer<L>> {
  const renderer = createHubSpotRenderer(location);
  const waitFor = renderer.waitFor;
  renderer.waitFor = (check, options) => waitFor(check, { timeoutInMs: WAIT_FOR_MS, ...options });
  return renderer;
}
