import type { DiagramModel, DiagramNode } from "../src/protocol.js";
import { s } from "./dom.js";

/** The drawn diagram and how to mark a session's place on it. */
export interface DiagramView {
  readonly element: SVGSVGElement;
  /**
   * Marks `current` (a dotted state path) and its parents, every state in `visited`, and the edges
   * in `taken` (in the order taken); the label read to assistive technology says the same.
   */
  highlight(current: string, visited: ReadonlySet<string>, taken: readonly string[]): void;
}

const LINE = 13;

/**
 * Draws the lifecycle diagram the server laid out from the machine definition: states as boxes
 * (parents around their children, final states with a double border, initial states with a dot),
 * transitions as orthogonal paths with their `event [guard]` labels.
 */
export function drawDiagram(model: DiagramModel): DiagramView {
  const arrow = (id: string) =>
    s("marker", { id, viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" }, s("path", { d: "M 0 0 L 10 5 L 0 10 z" }));
  const edges = model.edges.map((edge) => {
    const d = edge.points.map(([x, y], index) => `${index === 0 ? "M" : "L"} ${x} ${y}`).join(" ");
    const anchor = edge.side === "left" ? "end" : "start";
    return s(
      "g",
      { class: "edge", "data-edge": edge.id },
      s("title", {}, `${edge.from} → ${edge.to}: ${edge.labels.join("; ")}`),
      s("path", { d, "marker-end": "url(#arrow)" }),
      ...edge.labels.map((label, index) => s("text", { x: edge.labelX, y: edge.labelY - index * LINE, "text-anchor": anchor, class: "edge-label" }, label)),
    );
  });
  const nodes = model.nodes.map(drawNode);
  const element = s(
    "svg",
    { class: "diagram", viewBox: `0 0 ${model.width} ${model.height}`, width: model.width, height: model.height, role: "img", "aria-label": "Lifecycle diagram" },
    s("defs", {}, arrow("arrow")),
    s("g", { class: "nodes" }, ...nodes),
    s("g", { class: "edges" }, ...edges),
  );

  return {
    element,
    highlight(current, visited, taken) {
      const chain = new Set(current.split(".").map((_, index, parts) => parts.slice(0, index + 1).join(".")));
      for (const node of element.querySelectorAll<SVGGElement>("g.node")) {
        const id = node.dataset["state"] ?? "";
        node.classList.toggle("current", id === current);
        node.classList.toggle("active", chain.has(id) && id !== current);
        node.classList.toggle("visited", visited.has(id));
        if (id === current) node.setAttribute("aria-current", "true");
        else node.removeAttribute("aria-current");
      }
      const takenSet = new Set(taken);
      for (const edge of element.querySelectorAll<SVGGElement>("g.edge")) edge.classList.toggle("taken", takenSet.has(edge.dataset["edge"] ?? ""));
      element.setAttribute("aria-label", `Lifecycle diagram. Current state: ${current}. Path taken: ${pathText(taken)}`);
    },
  };
}

function drawNode(node: DiagramNode): SVGGElement {
  const { x, y, width, height } = node;
  const title = node.kind === "compound" ? s("text", { x: x + 10, y: y + 17, class: "node-label parent" }, node.label) : s("text", { x: x + width / 2, y: y + height / 2 + 4, "text-anchor": "middle", class: "node-label" }, node.label);
  return s(
    "g",
    { class: `node ${node.kind}`, "data-state": node.id },
    s("rect", { x, y, width, height, rx: node.kind === "compound" ? 10 : 8, class: "box" }),
    node.kind === "final" ? s("rect", { x: x + 3, y: y + 3, width: width - 6, height: height - 6, rx: 6, class: "inner" }) : null,
    title,
    node.initial ? s("circle", { cx: x + 18, cy: y - 13, r: 4, class: "initial" }) : null,
    node.initial ? s("path", { d: `M ${x + 18} ${y - 9} L ${x + 18} ${y - 1}`, class: "initial-arrow", "marker-end": "url(#arrow)" }) : null,
  );
}

function pathText(taken: readonly string[]): string {
  if (taken.length === 0) return "none yet";
  const [first] = taken;
  const states = [first?.split("->")[0] ?? "", ...taken.map((edge) => edge.split("->")[1] ?? "")];
  return states.join(" → ");
}
