/** A binary min-heap of numbers (free-prefixes.ts: the lowest released index in O(log n)). */
export class MinHeap {
  private readonly items: number[] = []

  peek (): number | undefined { return this.items[0] }

  push (value: number): void {
    const items = this.items
    let i = items.push(value) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if ((items[parent] as number) <= value) break
      items[i] = items[parent] as number
      i = parent
    }
    items[i] = value
  }

  pop (): number | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length === 0 || last === undefined) return top
    let i = 0
    while (true) {
      const left = 2 * i + 1
      if (left >= items.length) break
      const right = left + 1
      const child = right < items.length && (items[right] as number) < (items[left] as number) ? right : left
      if ((items[child] as number) >= last) break
      items[i] = items[child] as number
      i = child
    }
    items[i] = last
    return top
  }
}
