import type { Line } from './frame.js';
import { ink } from './ink.js';

/** Draws frame lines with Ink; `color` false (NO_COLOR, not a terminal) drops every colour and style. */
export function FrameView({ lines, color }: { lines: Line[]; color: boolean }) {
  const { Box, Text } = ink();
  return (
    <Box flexDirection="column">
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate">
          {line.map((s, j) =>
            color ? (
              <Text key={j} color={s.color} bold={s.bold} inverse={s.inverse}>
                {s.text}
              </Text>
            ) : (
              <Text key={j} inverse={s.inverse}>
                {s.text}
              </Text>
            ),
          )}
          {line.length === 0 ? ' ' : ''}
        </Text>
      ))}
    </Box>
  );
}
