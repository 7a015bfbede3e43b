package mobilenode

import (
	"context"

	"github.com/networkservicemesh/sdk/pkg/networkservice/utils/metadata"
)

type key struct{}

func storeAttachment(ctx context.Context, at Attachment) {
	metadata.Map(ctx, true).Store(key{}, at)
}

func loadAttachment(ctx context.Context) (Attachment, bool) {
	v, ok := metadata.Map(ctx, true).Load(key{})
	if !ok {
		return Attachment{}, false
	}
	at, ok := v.(Attachment)
	return at, ok
}

func loadAndDeleteAttachment(ctx context.Context) (Attachment, bool) {
	v, ok := metadata.Map(ctx, true).LoadAndDelete(key{})
	if !ok {
		return Attachment{}, false
	}
	at, ok := v.(Attachment)
	return at, ok
}
