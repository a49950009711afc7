// Playing the frames of a video: a timer that asks for the next frame and keeps the play button's look.

export class Player {
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private next: () => void,
    private shown: (playing: boolean) => void,
    private ms = 500,
  ) {}

  get playing(): boolean {
    return this.timer !== null;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(this.next, this.ms);
    this.shown(true);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.shown(false);
  }

  toggle(): void {
    if (this.timer) this.stop();
    else this.start();
  }
}
