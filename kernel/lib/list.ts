// Intrusive doubly linked lists: the links live in the nodes, as two fields `next` and `prev`
// (addresses; 0 ends the list at either side) of the node's @unmanaged class T, and the list is a
// word holding its first node. The heap's runs and free blocks, the object caches' slab lists,
// the slab regions and the DMA pools' free chunks are such lists. Both operations are @inline
// and generic over T, so each compiles to the loads and stores at T's field offsets.

/** Puts `node` (an address, T's layout) first on the list whose head word is at `headAt`. */
@inline export function listPush<T>(node: usize, headAt: usize): void {
  const head = load<usize>(headAt);
  changetype<T>(node).next = head;
  changetype<T>(node).prev = 0;
  if (head != 0) changetype<T>(head).prev = node;
  store<usize>(headAt, node);
}

/**
 * Takes `node` off the list whose head word is at `headAt`, linking its neighbours to each other
 * (the node's own links are left as they were). True when the list is empty now.
 */
@inline export function listUnlink<T>(node: usize, headAt: usize): bool {
  const next = changetype<T>(node).next, prev = changetype<T>(node).prev;
  if (next != 0) changetype<T>(next).prev = prev;
  if (prev != 0) { changetype<T>(prev).next = next; return false; }
  store<usize>(headAt, next);
  return next == 0;
}
