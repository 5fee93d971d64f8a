import type { Urgency } from './format.ts';

/**
 * Sound, vibration and speech, each only where the device has it. Browsers start audio only
 * after a user gesture, so the first tap anywhere arms it.
 */

let audio: AudioContext | undefined;

export function armAudioOnFirstGesture(onArmed: () => void = () => undefined): void {
  const arm = () => {
    audio ??= new AudioContext();
    void audio.resume().then(onArmed);
  };
  // A kiosk browser or a site the browser already trusts may allow sound at once: then no tap is needed.
  audio = new AudioContext();
  if (audio.state === 'running') onArmed();
  window.addEventListener('pointerdown', arm, { once: true, capture: true });
  window.addEventListener('keydown', arm, { once: true, capture: true });
}

export const audioArmed = (): boolean => audio?.state === 'running';

const TONES: Readonly<Record<Urgency, { hz: number; beeps: number }>> = {
  alarm: { hz: 1046, beeps: 3 },
  caution: { hz: 784, beeps: 2 },
  routine: { hz: 523, beeps: 1 },
};

/** Short square-wave beeps: loud enough through a car's noise, distinct per urgency. */
export function tone(urgency: Urgency): void {
  if (audio?.state !== 'running') return;
  const { hz, beeps } = TONES[urgency];
  const start = audio.currentTime;
  for (let i = 0; i < beeps; i += 1) {
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = 'square';
    oscillator.frequency.value = hz;
    gain.gain.value = 0.4;
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(start + i * 0.22);
    oscillator.stop(start + i * 0.22 + 0.15);
  }
}

export function vibrate(pattern: readonly number[]): void {
  if ('vibrate' in navigator) navigator.vibrate([...pattern]);
}

export const VIBRATION: Readonly<Record<Urgency, number[]>> = {
  alarm: [300, 100, 300, 100, 300],
  caution: [250, 100, 250],
  routine: [200],
};

/** The handset's buzzes, told apart in a pocket: one tick sent, two answered, long pulses for an alarm. */
export const HANDSET_BUZZ = {
  sent: [40],
  answered: [80, 80, 80],
  alarm: [400, 150, 400, 150, 400],
} as const satisfies Record<string, number[]>;

/**
 * Keeps the screen on while the page is visible; the lock is released by the browser whenever it
 * is hidden. Screen Wake Lock exists only in secure contexts: over plain http, or when the browser
 * refuses, `held(false)` lets the page say the screen may sleep.
 */
export function keepAwake(held: (isHeld: boolean) => void): void {
  if (!('wakeLock' in navigator)) {
    held(false);
    return;
  }
  const request = () => {
    if (document.visibilityState !== 'visible') return;
    navigator.wakeLock.request('screen').then(
      (lock) => {
        held(true);
        lock.addEventListener('release', () => {
          if (document.visibilityState === 'visible') held(false);
        });
      },
      () => held(false),
    );
  };
  request();
  document.addEventListener('visibilitychange', request);
}
