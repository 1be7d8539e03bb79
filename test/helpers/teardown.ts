// What a test helper needs from tap's `t` to clean up after itself: every helper registers its own
// teardown, so a test file leaves no socket, port, timer, folder or database behind.
export interface Teardown {
  teardown(fn: () => unknown): void
}
