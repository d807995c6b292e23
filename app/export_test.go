package app_test

import (
	"context"
	"io"

	"gatehouse/app"
	"gatehouse/app/apptest"
)

// mainRun runs `serve --dev` against env until ctx ends.
func mainRun(ctx context.Context, env *apptest.Env, out io.Writer) int {
	return app.Main(ctx, []string{"serve", "--dev"}, env.Getenv, out, io.Discard)
}
