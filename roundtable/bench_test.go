package roundtable

import (
	"context"
	"strings"
	"testing"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/providers"
)

// tokenModel streams n one-word tokens instantly.
type tokenModel struct{ n int }

func (m tokenModel) Stream(_ context.Context, req providers.Request, fn providers.StreamFunc) (providers.Response, error) {
	var b strings.Builder
	for i := 0; i < m.n; i++ {
		if err := fn(providers.Delta{Text: "word "}); err != nil {
			return providers.Response{}, err
		}
		b.WriteString("word ")
	}
	return providers.Response{Text: b.String(), Usage: providers.Usage{Calls: 1, OutputTokens: m.n}}, nil
}

// nopConv discards everything, so only the engine's own work is measured.
type nopConv struct{}

type nopStream struct{}

func (nopConv) Open(context.Context, bot.Post) (bot.Stream, error) { return nopStream{}, nil }
func (nopConv) SendImage(context.Context, bot.Persona, bot.Attachment, string) error {
	return nil
}
func (nopConv) AskKeywords(_ context.Context, q bot.Question) (bot.Answer, error) {
	return bot.Answer{Action: bot.ActionKeep, Keywords: q.Keywords}, nil
}
func (nopStream) Update(string)                       {}
func (nopStream) Close(context.Context, string) error { return nil }

// BenchmarkStreamedToken is the engine's overhead per streamed token: the
// delta callback, text accumulation and the stream update.
func BenchmarkStreamedToken(b *testing.B) {
	const tokens = 200
	st := newMemStore()
	s, err := New(context.Background(), testConfig(), Deps{Chat: tokenModel{n: tokens}, Store: st}, nopConv{}, Start{Channel: "b", Topic: "t"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.talks.spk.speak(context.Background(), call{seat: 0, stage: StageDiscussion, prompt: "p"})
	}
	b.StopTimer()
	s.dl.wait()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tokens), "ns/token")
}

// BenchmarkSession runs whole sessions (two rounds, no photo) on an instant
// scripted model: the engine's overhead per session and per stage.
func BenchmarkSession(b *testing.B) {
	b.ReportAllocs()
	steps := 0
	for i := 0; i < b.N; i++ {
		st := newMemStore()
		s, err := New(context.Background(), testConfig(), Deps{Chat: newScripted(), Store: st}, nopConv{}, Start{Channel: "b", Topic: "t"})
		if err != nil {
			b.Fatal(err)
		}
		steps = len(s.plan())
		if err := s.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*13), "ns/stage")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*steps), "ns/step")
}
