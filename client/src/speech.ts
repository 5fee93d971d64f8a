/**
 * The earpiece's voice as a queue: one line at a time, alarms before anything else, nothing
 * dropped. `speechSynthesis.speak` would queue too, but it cannot put an alarm first, and the
 * old handset cancelled each line with the next (two answers 233 ms apart: one heard).
 */

export type SpeechPriority = 'alarm' | 'info';

/** The one thing the queue needs of a voice: say this, and call back when it is done (or failed). */
export interface Voice {
  say(text: string, done: () => void): void;
}

export class SpeechQueue {
  readonly #voice: Voice;
  readonly #waiting: { text: string; priority: SpeechPriority }[] = [];
  #speaking = false;

  constructor(voice: Voice) {
    this.#voice = voice;
  }

  /** What is still to be said, in the order it will be. */
  get waiting(): readonly string[] {
    return this.#waiting.map((w) => w.text);
  }

  say(text: string, priority: SpeechPriority = 'info'): void {
    // An alarm goes after the alarms already waiting and before every other line.
    const at = priority === 'alarm' ? this.#waiting.findIndex((w) => w.priority !== 'alarm') : -1;
    if (at === -1) this.#waiting.push({ text, priority });
    else this.#waiting.splice(at, 0, { text, priority });
    this.#next();
  }

  #next() {
    if (this.#speaking) return;
    const line = this.#waiting.shift();
    if (!line) return;
    this.#speaking = true;
    let finished = false;
    this.#voice.say(line.text, () => {
      if (finished) return;
      finished = true;
      this.#speaking = false;
      this.#next();
    });
  }
}

/**
 * The browser's voice. A line the engine never ends (Chrome drops `end` now and then) is
 * released after a generous time for its length, so the queue cannot stall.
 */
export function browserVoice(): Voice {
  return {
    say(text, done) {
      if (!('speechSynthesis' in window)) return done();
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.rate = 1.1;
      const release = setTimeout(done, 2000 + text.length * 120);
      const finish = () => {
        clearTimeout(release);
        done();
      };
      utterance.addEventListener('end', finish);
      utterance.addEventListener('error', finish);
      window.speechSynthesis.speak(utterance);
    },
  };
}
