import { useEffect, useRef } from 'preact/hooks';
import { useNow } from '../hooks/use-now';
import { useI18n } from '../i18n/i18n';

interface Props {
  /** ISO timestamp the countdown runs to. */
  until: string;
  label: string;
  onDone?: () => void;
}

/** `4:59` ticking down to `until`; calls `onDone` once when it reaches zero. */
export function Countdown({ until, label, onDone }: Props) {
  const { clock } = useI18n();
  const now = useNow(250);
  const left = Math.max(0, (Date.parse(until) - now) / 1000);
  const done = useRef(false);

  useEffect(() => {
    done.current = false;
  }, [until]);
  useEffect(() => {
    if (left <= 0 && !done.current) {
      done.current = true;
      onDone?.();
    }
  }, [left, onDone]);

  return (
    <div class={`countdown${left <= 30 ? ' countdown-urgent' : ''}`}>
      <span class="countdown-label">{label}</span>{' '}
      <span class="countdown-time" role="timer" aria-label={`${label} ${clock(left)}`}>
        {clock(left)}
      </span>
    </div>
  );
}
