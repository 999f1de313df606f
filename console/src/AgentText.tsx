import { visibleText } from '../../shared/views/display-text.ts';

/**
 * Text an agent (or an admin naming one) wrote: its hidden characters shown as markers, and set
 * in a <bdi> so right-to-left letters in it cannot reorder the words around it.
 */
export function AgentText(props: { children: string }) {
  return <bdi>{visibleText(props.children)}</bdi>;
}
