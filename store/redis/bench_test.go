package redis_test

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/providers/demo"
	"github.com/tableround/tableround/roundtable"
	redisstore "github.com/tableround/tableround/store/redis"
)

// counter is a go-redis hook counting round trips and commands.
type counter struct{ trips, cmds atomic.Int64 }

func (c *counter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (c *counter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.trips.Add(1)
		c.cmds.Add(1)
		return next(ctx, cmd)
	}
}

func (c *counter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.trips.Add(1)
		c.cmds.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

type quietConv struct{}
type quietStream struct{}

func (quietConv) Open(context.Context, bot.Post) (bot.Stream, error) { return quietStream{}, nil }
func (quietConv) SendImage(context.Context, bot.Persona, bot.Attachment, string) error {
	return nil
}
func (quietConv) AskKeywords(_ context.Context, q bot.Question) (bot.Answer, error) {
	return bot.Answer{Action: bot.ActionKeep, Keywords: q.Keywords}, nil
}
func (quietStream) Update(string)                       {}
func (quietStream) Close(context.Context, string) error { return nil }

// netBytes reads the server's total network input and output.
func netBytes(b *testing.B, c *goredis.Client) (in, out int64) {
	info, err := c.Info(context.Background(), "stats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		k, v, _ := strings.Cut(line, ":")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "total_net_input_bytes":
			in = n
		case "total_net_output_bytes":
			out = n
		}
	}
	return in, out
}

// BenchmarkSessionOnRedis runs whole sessions (two rounds, a photo, the
// demo model at full speed) on the Redis store and reports what each step
// costs Redis: round trips, commands and bytes each way.
func BenchmarkSessionOnRedis(b *testing.B) {
	if skipReason != "" {
		b.Skip(skipReason)
	}
	cnt := &counter{}
	c := goredis.NewClient(&goredis.Options{Addr: shared.addr()})
	defer c.Close()
	c.AddHook(cnt)
	st := redisstore.New(c, redisstore.Options{Prefix: uniquePrefix()})
	cfg := roundtable.Config{MaxTurns: 2, MaxKeywords: 10, VotingThreshold: 0.6, UserInputTimeout: time.Minute,
		Language: "en", Pack: "papercut", ContextBudget: 6000}
	deps := roundtable.Deps{Chat: demo.New(demo.Options{}), Store: st, Demo: true,
		Prepare: func(_ context.Context, data []byte) (roundtable.PreparedImage, error) {
			return roundtable.PreparedImage{MIME: "image/jpeg", Data: data, Width: 800, Height: 600}, nil
		}}
	photo := make([]byte, 60_000) // the size of a prepared 800 px JPEG
	steps := 0
	in0, out0 := netBytes(b, c)
	cnt.trips.Store(0)
	cnt.cmds.Store(0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := roundtable.New(context.Background(), cfg, deps, quietConv{}, roundtable.Start{
			Channel: "bench:" + strconv.Itoa(i), Topic: "paper-cut kite", Image: photo})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
		evs, _ := st.Events(context.Background(), s.ID())
		if len(evs) == 0 {
			b.Fatal("nothing stored")
		}
		steps += s.Meta().Step
	}
	b.StopTimer()
	in1, out1 := netBytes(b, c)
	b.ReportMetric(float64(cnt.trips.Load())/float64(steps), "roundtrips/step")
	b.ReportMetric(float64(cnt.cmds.Load())/float64(steps), "cmds/step")
	b.ReportMetric(float64(in1-in0)/float64(steps), "bytes_in/step")
	b.ReportMetric(float64(out1-out0)/float64(steps), "bytes_out/step")
}
