// Before/after: the result over the original, cut at a point the slider (or the arrow keys) moves.
import { useState } from 'preact/hooks'

export function Compare(props: { before: string; after: string }) {
  const [split, setSplit] = useState(50)
  return (
    <div class="compare">
      <div class="compare-frame">
        <img src={props.before} alt="Before: the image you uploaded" class="compare-before" />
        <img src={props.after} alt="After: the edited image" class="compare-after" style={{ clipPath: `inset(0 0 0 ${split}%)` }} />
      </div>
      <label for="compare-split">Before ← → after</label>
      <input id="compare-split" type="range" min={0} max={100} value={split}
        onInput={(event) => setSplit(Number(event.currentTarget.value))} />
    </div>
  )
}
