package homeagent

import (
	"context"

	"github.com/networkservicemesh/sdk/pkg/networkservice/utils/metadata"
)

type key struct{}

func storeRecord(ctx context.Context, rec record) {
	metadata.Map(ctx, false).Store(key{}, rec)
}

func loadRecord(ctx context.Context) (record, bool) {
	v, ok := metadata.Map(ctx, false).Load(key{})
	if !ok {
		return record{}, false
	}
	rec, ok := v.(record)
	return rec, ok
}

func loadAndDeleteRecord(ctx context.Context) (record, bool) {
	v, ok := metadata.Map(ctx, false).LoadAndDelete(key{})
	if !ok {
		return record{}, false
	}
	rec, ok := v.(record)
	return rec, ok
}
