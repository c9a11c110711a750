package telegram

import (
	"testing"

	"github.com/go-telegram/bot/models"
)

func TestImageOfPicksSmallestCoveringSize(t *testing.T) {
	t.Parallel()
	size := func(id string, w, h int) models.PhotoSize {
		return models.PhotoSize{FileID: id, Width: w, Height: h}
	}
	tests := []struct {
		name  string
		sizes []models.PhotoSize
		want  string
	}{
		{"smallest covering 800", []models.PhotoSize{size("s", 90, 68), size("m", 320, 240), size("l", 1280, 960), size("x", 2560, 1920), size("c", 800, 600)}, "c"},
		{"portrait covers by height", []models.PhotoSize{size("s", 240, 320), size("l", 960, 1280), size("p", 600, 800)}, "p"},
		{"none covers: the largest", []models.PhotoSize{size("m", 320, 240), size("s", 90, 68), size("b", 640, 480)}, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := imageOf(&models.Message{Photo: tt.sizes})
			if got == nil || got.id != tt.want {
				t.Fatalf("picked %+v, want %s", got, tt.want)
			}
		})
	}
}
