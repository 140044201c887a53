import type { DiagramEdge, DiagramModel, DiagramNode } from "../protocol.js";
import type { MachineGraph, MachineState, MachineTransition } from "./machineGraph.js";

// Sizes in SVG user units; the page draws text in a monospace font, so widths can be estimated here.
const NODE_CHAR = 7.3; // 12px monospace
const LABEL_CHAR = 6.7; // 11px monospace
const LINE = 13; // an edge label line
const PORT_GAP = 16; // between two ports on one side of a state
const INDENT = 14; // a child inside its parent
const HEADER = 24; // a parent's title row
const NODE_GAP = 26; // between two live states (room for an initial marker)
const CHILD_GAP = 20;
const LANE_GAP = 11;
const ZONE_GAP = 8; // between a column and the labels, the labels and the lanes
const MARGIN = 16;
const CLEARANCE = 6; // between a line entering a final state and one leaving the live column at about the same height
const FINAL_SHIFT = 8; // how far a final state may move from its even spread (half of NODE_GAP, less a little)

interface Port {
  readonly edge: string;
  /** Where the edge leaves (`out`) or enters (`in`): a transition to its own state has one of each. */
  readonly role: "out" | "in";
  /** Label lines above the port's line (a source port carries its edge's labels). */
  readonly lines: number;
  /** The other end's state, to order the ports of a side. */
  readonly other: string;
  y: number;
}

interface Box {
  readonly state: MachineState;
  x: number;
  y: number;
  width: number;
  height: number;
  readonly ports: { left: Port[]; right: Port[] };
}

interface MergedEdge {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly labels: string[];
  readonly side: "left" | "right";
}

/**
 * Lays the lifecycle diagram out. Live states stand in one column in the order the machine reaches
 * them, children inside their parents; final states stand in a second column on the right.
 * Transitions are merged per pair of states and drawn as orthogonal paths in lanes: those to a
 * final state between the two columns, the rest on the left of the live column. Every port has
 * its own band and every lane its own x, and a final state moves a little off any height where a
 * line leaves the live column, so labels and paths never lie on top of each other;
 * shorter paths take the inner lanes. Deterministic: the same machine gives the same picture.
 *
 * @example
 * const model = layoutDiagram(machineGraph());
 */
export function layoutDiagram(graph: MachineGraph): DiagramModel {
  const kindOf = new Map(graph.states.map((state) => [state.id, state.kind]));
  const edges = mergeTransitions(graph.transitions, (id) => kindOf.get(id) === "final");
  const ordered = orderStates(graph);
  const boxes = new Map<string, Box>(ordered.map((state) => [state.id, { state, x: 0, y: 0, width: 0, height: 0, ports: { left: [], right: [] } }]));
  const box = (id: string): Box => {
    const found = boxes.get(id);
    if (found === undefined) throw new Error(`the diagram has no state ${id}`);
    return found;
  };
  for (const edge of edges) {
    box(edge.from).ports[edge.side].push({ edge: edge.id, role: "out", lines: edge.labels.length, other: edge.to, y: 0 });
    // A final state is entered from its left, where the lanes are.
    box(edge.to).ports[kindOf.get(edge.to) === "final" ? "left" : edge.side].push({ edge: edge.id, role: "in", lines: 0, other: edge.from, y: 0 });
  }
  const children = (id: string | null): Box[] => ordered.filter((state) => state.parent === id).map((state) => box(state.id));
  const labelWidth = (state: MachineState): number => state.label.length * NODE_CHAR + 28;
  const live = children(null).filter((top) => top.state.kind !== "final");
  const finals = children(null).filter((top) => top.state.kind === "final");

  // Vertical: the live column top to bottom, each state as tall as its busier side's ports need.
  const columnWidth = Math.max(...live.map((top) => Math.max(labelWidth(top.state), ...children(top.state.id).map((child) => labelWidth(child.state) + 2 * INDENT))));
  let y = MARGIN + NODE_GAP;
  for (const top of live) {
    top.width = columnWidth;
    top.y = y;
    const inner = children(top.state.id);
    if (inner.length === 0) {
      top.height = Math.max(34, portsHeight(top) + 8);
      placePorts(top, top.y + (top.height - portsHeight(top)) / 2);
    } else {
      placePorts(top, top.y + 4);
      let childY = top.y + Math.max(HEADER, portsHeight(top) + 6) + CHILD_GAP;
      for (const child of inner) {
        child.width = columnWidth - 2 * INDENT;
        child.y = childY;
        child.height = Math.max(30, portsHeight(child) + 8);
        placePorts(child, child.y + (child.height - portsHeight(child)) / 2);
        childY += child.height + 10;
      }
      top.height = childY - top.y;
    }
    y += top.height + NODE_GAP;
  }
  const liveBottom = y - NODE_GAP;
  // The final states spread over the live column's height.
  const finalsWidth = Math.max(0, ...finals.map((final) => labelWidth(final.state)));
  for (const final of finals) {
    final.width = finalsWidth;
    final.height = Math.max(34, portsHeight(final) + 8);
  }
  const finalsHeight = finals.reduce((sum, final) => sum + final.height, 0);
  const spacing = Math.max(NODE_GAP, (liveBottom - MARGIN - finalsHeight) / (finals.length + 1));
  let finalY = MARGIN + spacing;
  for (const final of finals) {
    final.y = finalY;
    placePorts(final, final.y + (final.height - portsHeight(final)) / 2);
    finalY += final.height + spacing;
  }
  const centre = (id: string): number => box(id).y + box(id).height / 2;
  for (const each of boxes.values()) for (const side of ["left", "right"] as const) reorderPorts(each, side, centre);
  const leavingRight = [...boxes.values()].filter((each) => each.state.kind !== "final").flatMap((each) => each.ports.right);
  for (const final of finals) clearOfLeaving(final, leavingRight);

  // Horizontal: left lanes, left labels, the live column, right labels, right lanes, the finals.
  const leftLanes = assignLanes(edges.filter((edge) => edge.side === "left"), boxes);
  const rightLanes = assignLanes(edges.filter((edge) => edge.side === "right"), boxes);
  const leftLaneX = MARGIN;
  const columnX = leftLaneX + Math.max(0, leftLanes.count - 1) * LANE_GAP + ZONE_GAP + labelZone(edges, "left") + ZONE_GAP;
  for (const top of live) {
    top.x = columnX;
    for (const child of children(top.state.id)) child.x = columnX + INDENT;
  }
  const rightLaneX = columnX + columnWidth + ZONE_GAP + labelZone(edges, "right") + ZONE_GAP;
  const finalsX = rightLaneX + Math.max(0, rightLanes.count - 1) * LANE_GAP + 2 * ZONE_GAP + 8;
  for (const final of finals) final.x = finalsX;

  const route = (edge: MergedEdge): DiagramEdge => {
    const from = box(edge.from);
    const to = box(edge.to);
    const out = portY(from, edge.side, edge.id, "out");
    const into = portY(to, to.state.kind === "final" ? "left" : edge.side, edge.id, "in");
    const lane = edge.side === "left" ? leftLaneX + (leftLanes.count - 1 - (leftLanes.of.get(edge.id) ?? 0)) * LANE_GAP : rightLaneX + (rightLanes.of.get(edge.id) ?? 0) * LANE_GAP;
    const outX = edge.side === "left" ? from.x : from.x + from.width;
    const inX = edge.side === "left" || to.state.kind === "final" ? to.x : to.x + to.width;
    const labelX = edge.side === "left" ? columnX - ZONE_GAP : columnX + columnWidth + ZONE_GAP;
    return { id: edge.id, from: edge.from, to: edge.to, labels: edge.labels, side: edge.side, points: [[outX, out], [lane, out], [lane, into], [inX, into]], labelX, labelY: out - 4 };
  };
  const nodes: DiagramNode[] = ordered.map((state) => {
    const { x, y: top, width, height } = box(state.id);
    return { id: state.id, label: state.label, parent: state.parent, kind: state.kind, initial: state.initial, x, y: top, width, height };
  });
  const drawn = edges.map(route);
  const right = Math.max(columnX + columnWidth, ...nodes.map((node) => node.x + node.width), ...drawn.flatMap((edge) => edge.points.map(([x]) => x)));
  const bottom = Math.max(liveBottom, ...finals.map((final) => final.y + final.height));
  return { width: Math.ceil(right + MARGIN), height: Math.ceil(bottom + MARGIN), nodes, edges: drawn };
}

/** One edge per (from, to): its labels are the transitions' `event [guard]`. */
function mergeTransitions(transitions: readonly MachineTransition[], isFinal: (id: string) => boolean): MergedEdge[] {
  const merged = new Map<string, MergedEdge>();
  for (const transition of transitions) {
    const id = `${transition.from}->${transition.to}`;
    const label = transition.guard === undefined ? transition.event : `${transition.event} [${transition.guard}]`;
    const edge = merged.get(id) ?? { id, from: transition.from, to: transition.to, labels: [], side: isFinal(transition.to) ? "right" : "left" };
    if (!edge.labels.includes(label)) edge.labels.push(label);
    merged.set(id, edge);
  }
  return [...merged.values()];
}

/**
 * Live states in the order the machine reaches them (breadth-first from the initial state, over
 * transitions lifted to each level), children under their parent the same way; final states last.
 */
function orderStates(graph: MachineGraph): MachineState[] {
  const parentOf = new Map(graph.states.map((state) => [state.id, state.parent]));
  const result: MachineState[] = [];
  const place = (parent: string | null): void => {
    const siblings = graph.states.filter((state) => state.parent === parent);
    const ids = new Set(siblings.map((state) => state.id));
    const lift = (id: string): string | undefined => {
      for (let current: string | null | undefined = id; current !== null && current !== undefined; current = parentOf.get(current)) {
        if (ids.has(current)) return current;
      }
      return undefined;
    };
    const next = new Map<string, string[]>();
    for (const transition of graph.transitions) {
      const from = lift(transition.from);
      const to = lift(transition.to);
      if (from !== undefined && to !== undefined && from !== to) next.set(from, [...(next.get(from) ?? []), to]);
    }
    const live = siblings.filter((state) => state.kind !== "final");
    const reached: string[] = [];
    const queue = live.filter((state) => state.initial).map((state) => state.id);
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      if (reached.includes(id) || !live.some((state) => state.id === id)) continue;
      reached.push(id);
      queue.push(...(next.get(id) ?? []));
    }
    const rank = (state: MachineState): number => (reached.includes(state.id) ? reached.indexOf(state.id) : reached.length + siblings.indexOf(state));
    for (const state of [...[...live].sort((a, b) => rank(a) - rank(b)), ...siblings.filter((each) => each.kind === "final")]) {
      result.push(state);
      place(state.id);
    }
  };
  place(null);
  return result;
}

function portHeight(port: Port): number {
  return Math.max(PORT_GAP, port.lines * LINE + 4);
}

function sideHeight(ports: readonly Port[]): number {
  return ports.reduce((sum, port) => sum + portHeight(port), 0);
}

/** The height a state's busier side needs. */
function portsHeight(box: Box): number {
  return Math.max(sideHeight(box.ports.left), sideHeight(box.ports.right));
}

/** Ports from `top` down, each side centred in the band; a port's line is at the bottom of its own band, its labels above. */
function placePorts(box: Box, top: number): void {
  for (const side of [box.ports.left, box.ports.right]) {
    let cursor = top + (portsHeight(box) - sideHeight(side)) / 2;
    for (const port of side) {
      cursor += portHeight(port);
      port.y = cursor - 4;
    }
  }
}

/** Within a side, the upper port leads to the upper state: fewer crossings. The band stays where it is. */
function reorderPorts(box: Box, side: "left" | "right", centre: (id: string) => number): void {
  const ports = box.ports[side];
  const first = ports[0];
  if (first === undefined || ports.length < 2) return;
  let cursor = first.y + 4 - portHeight(first);
  ports.sort((a, b) => centre(a.other) - centre(b.other) || a.edge.localeCompare(b.edge) || a.role.localeCompare(b.role));
  for (const port of ports) {
    cursor += portHeight(port);
    port.y = cursor - 4;
  }
}

/**
 * The live column and the final states place their ports independently, so a line leaving the one
 * could lie at the very height of a line entering the other and, when its lane is further out, run
 * along it. Moves the final state (within FINAL_SHIFT, so it stays apart from its neighbours) to where
 * its ports are furthest from every leaving line, up to CLEARANCE, preferring to stay put.
 */
function clearOfLeaving(final: Box, leaving: readonly Port[]): void {
  const ports = [...final.ports.left, ...final.ports.right];
  // A shift of exactly `blocked` puts one of the final's ports on another edge's leaving line (its own edge's is a straight line).
  const blocked = ports.flatMap((port) => leaving.filter((other) => other.edge !== port.edge).map((other) => other.y - port.y)).filter((shift) => Math.abs(shift) < FINAL_SHIFT + CLEARANCE);
  const clearance = (shift: number): number => Math.min(CLEARANCE, ...blocked.map((each) => Math.abs(each - shift)));
  // The best shift is none, an end of the range, halfway between two neighbouring blocked shifts, or
  // the least that keeps CLEARANCE from one.
  const sorted = [-FINAL_SHIFT, ...blocked.filter((shift) => Math.abs(shift) < FINAL_SHIFT), FINAL_SHIFT].sort((a, b) => a - b);
  const halfway = sorted.slice(1).map((shift, index) => (shift + (sorted[index] ?? shift)) / 2);
  const aside = blocked.flatMap((shift) => [shift - CLEARANCE, shift + CLEARANCE]).filter((shift) => Math.abs(shift) <= FINAL_SHIFT);
  const candidates = [0, -FINAL_SHIFT, FINAL_SHIFT, ...halfway, ...aside];
  const best = candidates.reduce((kept, shift) => (clearance(shift) > clearance(kept) || (clearance(shift) === clearance(kept) && Math.abs(shift) < Math.abs(kept)) ? shift : kept));
  final.y += best;
  for (const port of ports) port.y += best;
}

function portY(box: Box, side: "left" | "right", edge: string, role: Port["role"]): number {
  const port = box.ports[side].find((each) => each.edge === edge && each.role === role);
  if (port === undefined) throw new Error(`no port for ${edge} on ${box.state.id}`);
  return port.y;
}

function labelZone(edges: readonly MergedEdge[], side: "left" | "right"): number {
  return Math.ceil(Math.max(0, ...edges.filter((edge) => edge.side === side).flatMap((edge) => edge.labels.map((label) => label.length * LABEL_CHAR))));
}

/**
 * Lane 0 is the innermost (next to the labels). Shortest edges first, each takes the innermost lane
 * none of whose paths overlaps its vertical span.
 */
function assignLanes(edges: readonly MergedEdge[], boxes: ReadonlyMap<string, Box>): { count: number; of: Map<string, number> } {
  const spanOf = (edge: MergedEdge): { low: number; high: number } => {
    const ends = ([[edge.from, "out"], [edge.to, "in"]] as const).map(([id, role]) => {
      const found = boxes.get(id);
      const port = found === undefined ? undefined : [...found.ports.left, ...found.ports.right].find((each) => each.edge === edge.id && each.role === role);
      return port?.y ?? 0;
    });
    return { low: Math.min(...ends) - 4, high: Math.max(...ends) + 4 };
  };
  const lanes: { low: number; high: number }[][] = [];
  const of = new Map<string, number>();
  const bySpan = [...edges].map((edge) => ({ edge, span: spanOf(edge) })).sort((a, b) => a.span.high - a.span.low - (b.span.high - b.span.low) || a.edge.id.localeCompare(b.edge.id));
  for (const { edge, span } of bySpan) {
    let lane = lanes.findIndex((taken) => taken.every((other) => other.high < span.low || other.low > span.high));
    if (lane === -1) lane = lanes.push([]) - 1;
    lanes[lane]?.push(span);
    of.set(edge.id, lane);
  }
  return { count: lanes.length, of };
}
