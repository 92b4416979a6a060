// Charts on console pages: the spec the client script draws with uPlot, carried in the page as
// JSON, so a page renders on the server and the chart appears where the script runs.
export interface ChartSpec {
  /** Unix seconds of each point. */
  x: number[];
  series: { label: string; values: (number | null)[] }[];
  unit: string;
  /** New readings from the live stream are appended to the first series. */
  live?: boolean;
  bars?: boolean;
}

/** JSON for a <script type="application/json"> block: "<" escaped so no text can close the tag. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export function Chart(props: { id: string; spec: ChartSpec }) {
  return (
    <div class="chart" data-chart={props.id}>
      <script type="application/json" dangerouslySetInnerHTML={{ __html: jsonForScript(props.spec) }} />
    </div>
  );
}
