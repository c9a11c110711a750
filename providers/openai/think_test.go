package openai

import "testing"

// TestThinkFilterEverySplit feeds the same content cut at every pair of
// positions and expects the same text and reasoning.
func TestThinkFilterEverySplit(t *testing.T) {
	tests := []struct{ name, in, text, reasoning string }{
		{"block", "<think>a<b</think>x<y", "x<y", "a<b"},
		{"bare close", "mull</think>answer", "answer", "mull"},
		{"no tags", "plain <thin text", "plain <thin text", ""},
		{"unclosed", "<think>still going", "", "still going"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i <= len(tc.in); i++ {
				for j := i; j <= len(tc.in); j++ {
					var f thinkFilter
					var text, reason string
					for _, part := range []string{tc.in[:i], tc.in[i:j], tc.in[j:]} {
						o := f.write(part)
						if o.BareClose {
							reason, text = reason+text, ""
						}
						text += o.Text
						reason += o.Reasoning
					}
					o := f.flush()
					text, reason = text+o.Text, reason+o.Reasoning
					if text != tc.text || reason != tc.reasoning {
						t.Fatalf("split %d/%d: text %q reasoning %q", i, j, text, reason)
					}
				}
			}
		})
	}
}
