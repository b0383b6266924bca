package stream_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kinesis-console/kinesis-console/internal/stream"
)

func TestMemoryBudget(t *testing.T) {
	t.Run("takes what it wants when it is free", func(t *testing.T) {
		b := stream.NewMemoryBudget(100)
		g, err := b.Take(t.Context(), 60, 10, time.Second)
		if err != nil || g.Bytes() != 60 || b.InUse() != 60 {
			t.Fatalf("%v, %d granted, %d in use", err, g.Bytes(), b.InUse())
		}
		g.Release()
		g.Release() // twice is harmless
		if b.InUse() != 0 {
			t.Fatalf("%d in use after release", b.InUse())
		}
	})
	t.Run("a want larger than the budget is cut to it", func(t *testing.T) {
		b := stream.NewMemoryBudget(100)
		g, err := b.Take(t.Context(), 1000, 10, time.Second)
		if err != nil || g.Bytes() != 100 {
			t.Fatalf("%v, %d granted", err, g.Bytes())
		}
	})
	t.Run("waits for a release, then takes all it wants", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := stream.NewMemoryBudget(100)
			first, _ := b.Take(t.Context(), 80, 80, time.Second)
			got := make(chan *stream.Grant)
			go func() {
				g, _ := b.Take(context.Background(), 60, 10, 10*time.Second)
				got <- g
			}()
			synctest.Wait() // the second waits: 20 are free, it wants 60
			time.Sleep(5 * time.Second)
			first.Release()
			if g := <-got; g.Bytes() != 60 {
				t.Fatalf("granted %d after the release, want 60", g.Bytes())
			}
		})
	})
	t.Run("after the wait, settles for what is free if it is enough", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := stream.NewMemoryBudget(100)
			_, _ = b.Take(t.Context(), 70, 70, time.Second)
			start := time.Now()
			g, err := b.Take(t.Context(), 60, 20, 2*time.Second)
			if err != nil || g.Bytes() != 30 || time.Since(start) != 2*time.Second {
				t.Fatalf("%v, %d granted after %v; want 30 after 2s", err, g.Bytes(), time.Since(start))
			}
		})
	})
	t.Run("when not even the least is free, waits in line for it", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := stream.NewMemoryBudget(100)
			first, _ := b.Take(t.Context(), 95, 95, time.Second)
			got := make(chan *stream.Grant)
			go func() {
				g, _ := b.Take(context.Background(), 60, 10, time.Second)
				got <- g
			}()
			time.Sleep(time.Minute)
			synctest.Wait()
			select {
			case g := <-got:
				t.Fatalf("granted %d with 5 free and 10 the least", g.Bytes())
			default:
			}
			first.Release()
			if g := <-got; g.Bytes() != 60 {
				t.Fatalf("granted %d once free, want 60", g.Bytes())
			}
		})
	})
	t.Run("busy when ctx ends first", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := stream.NewMemoryBudget(100)
			_, _ = b.Take(t.Context(), 95, 95, time.Second)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			if _, err := b.Take(ctx, 60, 10, time.Second); !errors.Is(err, stream.ErrMemoryBusy) {
				t.Fatalf("%v, want ErrMemoryBusy", err)
			}
			if b.InUse() != 95 {
				t.Fatalf("%d in use: a refused take holds nothing", b.InUse())
			}
		})
	})
	t.Run("a canceled wait holds nothing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := stream.NewMemoryBudget(100)
			_, _ = b.Take(t.Context(), 100, 100, time.Second)
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			if _, err := b.Take(ctx, 10, 10, time.Minute); !errors.Is(err, context.DeadlineExceeded) || b.InUse() != 100 {
				t.Fatalf("%v, %d in use", err, b.InUse())
			}
		})
	})
}
